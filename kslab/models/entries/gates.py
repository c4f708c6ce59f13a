"""What the canary observers return (kslab/scenarios/observers/{analysis,gating}.py), typed for the report.

``CanaryAnalysis`` is a ``canary-analysis`` step's observations (per revision: counts, error rate, latencies,
hold-out accuracy; agreement; the split), ``GateEvaluation`` a ``canary-gates`` step's (each gate's verdict with
expected vs observed and its evidence). ``canary_views`` picks both out of a scenario's steps, in step order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kslab.models.entries.codec import Entry
from kslab.models.entries.scenario import ScenarioStep


@dataclass(frozen=True)
class RevisionAnalysis(Entry):
    """One revision's window: calls sent straight to it (its tag host)."""

    role: str | None = None  # stable | canary
    host: str | None = None
    requests: int | None = None
    errors: int | None = None
    error_rate: float | None = None
    errors_by_status: dict[str, int] | None = None
    latency_ms: tuple[float, ...] | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    labelled: int | None = None
    correct: int | None = None
    accuracy: float | None = None


@dataclass(frozen=True)
class CanaryAnalysis(Entry):
    """``canary-analysis``: both revisions measured in one window, directly and through the split."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"roles", "revisions"})
    roles: dict[str, str]
    revisions: dict[str, RevisionAnalysis]
    agreement: Mapping[str, Any] | None = None
    split: Mapping[str, Any] | None = None
    holdout: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class GateCheck(Entry):
    """One gate's verdict: pass | fail | inconclusive, expected (the bound in words) vs observed."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"name", "status"})
    name: str
    status: str
    metric: str | None = None
    expected: str | None = None
    observed: float | None = None
    bound: float | None = None
    stable: float | None = None
    samples: dict[str, int] | None = None
    reason: str | None = None
    evidence: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class GateEvaluation(Entry):
    """``canary-gates``: a stage's gates, the stage's verdict and what it decided."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"status", "gates"})
    status: str
    gates: tuple[GateCheck, ...]
    stage: Any = None
    decision: str | None = None
    final: bool | None = None
    canary: str | None = None
    stable: str | None = None
    analysis: str | None = None


CanaryView = CanaryAnalysis | GateEvaluation
CANARY_VIEWS: dict[str, type[CanaryView]] = {"canary-analysis": CanaryAnalysis, "canary-gates": GateEvaluation}


def canary_views(steps: Iterable[ScenarioStep]) -> list[tuple[ScenarioStep, CanaryView]]:
    """(step, typed observations) of every canary-analysis / canary-gates step that recorded its result (a failed
    gate step keeps its evaluation), in step order."""
    out: list[tuple[ScenarioStep, CanaryView]] = []
    for i, step in enumerate(steps):
        chosen = CANARY_VIEWS.get(step.observer or "") if step.action == "observe" else None
        if chosen is not None and step.observations and set(chosen.REQUIRED) <= set(step.observations):
            out.append((step, chosen.from_dict(step.observations, f"steps[{i}].observations")))
    return out
