"""A scenario's entry in ``record["scenarios"]`` (kslab/scenarios/engine.py): its steps, assertion entries
(kslab/scenarios/assertions.py), background timelines (kslab/scenarios/timelines.py), events and load results
(run schema: ``$defs/scenario``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kslab.models.entries.codec import Entry
from kslab.models.entries.load import LoadEvent, LoadResult

FAILED_STEP = ("failed", "running", "interrupted")


@dataclass(frozen=True)
class ScenarioStep(Entry):
    """One step of a scenario: its action, phase (main, catch, finally), result and observations."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"name"})
    name: str
    action: str | None = None
    phase: str | None = None
    result: str | None = None
    started_at: str | None = None
    t_s: float | None = None
    duration_s: float | None = None
    inputs: Mapping[str, Any] | None = None
    observations: Mapping[str, Any] | None = None
    error: str | None = None
    finished_at: str | None = None

    @property
    def observer(self) -> str | None:
        """The observer kind of an ``observe`` step, as the engine recorded it in the step's inputs."""
        kind = (self.inputs or {}).get("observe") if self.action == "observe" else None
        return kind if isinstance(kind, str) else None


@dataclass(frozen=True)
class Assertion(Entry):
    """One assert check: expected against observed (with its tolerance), ok, and the message."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"name", "ok"})
    name: str
    step: str | None = None
    expected: Any = None
    observed: Any = None
    tolerance: Any = None
    ok: bool = False
    message: str | None = None


@dataclass(frozen=True)
class ConditionChange(Entry):
    REQUIRED: ClassVar[frozenset[str]] = frozenset({"t_s", "type"})
    t_s: float
    type: str
    status: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TrafficTarget(Entry):
    revisionName: str | None = None  # KServe status keys, kept as written
    percent: float | None = None
    tag: str | None = None
    latestRevision: bool | None = None


@dataclass(frozen=True)
class TrafficChange(Entry):
    REQUIRED: ClassVar[frozenset[str]] = frozenset({"t_s"})
    t_s: float
    targets: tuple[TrafficTarget, ...] | None = None


@dataclass(frozen=True)
class ReplicaChange(Entry):
    """Ready and desired replicas of one predictor Deployment, on change."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"t_s", "name"})
    t_s: float
    name: str
    ready: int | None = None
    desired: int | None = None


@dataclass(frozen=True)
class PodChange(Entry):
    REQUIRED: ClassVar[frozenset[str]] = frozenset({"t_s", "name"})
    t_s: float
    name: str
    phase: str | None = None
    ready: bool | None = None


@dataclass(frozen=True)
class Timelines(Entry):
    """The background watches' rows; ``errors`` the last watch errors, ``error`` when the watches never started."""

    conditions: tuple[ConditionChange, ...] | None = None
    traffic: tuple[TrafficChange, ...] | None = None
    replicas: tuple[ReplicaChange, ...] | None = None
    pods: tuple[PodChange, ...] | None = None
    errors: tuple[str, ...] | None = None
    error: str | None = None


@dataclass(frozen=True)
class ScenarioEntry(Entry):
    REQUIRED: ClassVar[frozenset[str]] = frozenset({"name"})
    name: str
    file: str | None = None
    description: str | None = None
    requires: Mapping[str, Any] | None = None
    verdict: str | None = None
    reason: str | None = None
    params: Mapping[str, Any] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    steps: tuple[ScenarioStep, ...] | None = None
    assertions: tuple[Assertion, ...] | None = None
    timelines: Timelines | None = None
    events: tuple[LoadEvent, ...] | None = None
    load: tuple[LoadResult, ...] | None = None
    diagnosis: Mapping[str, Any] | None = None
    cleanups: tuple[Mapping[str, Any], ...] | None = None

    @property
    def verdict_or_unknown(self) -> str:
        return self.verdict or "unknown"

    def steps_not_ok(self) -> list[str]:
        return [s.name for s in self.steps or () if s.result in FAILED_STEP]
