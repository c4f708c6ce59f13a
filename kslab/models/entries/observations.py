"""What the measuring observers return (kslab/scenarios/observers/{split,coldstart,latency}.py): a scenario
step's observations when it ran ``observe: <kind>``.

``OBSERVATIONS`` maps the observer kind to its type. An ``observe`` step records its kind in
``inputs.observe`` (the scenario engine writes ``inputs[<action>]`` for every step it runs); a step that does not
is not read as a measurement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kslab.models.entries.codec import Entry
from kslab.models.entries.scenario import ScenarioStep


@dataclass(frozen=True)
class RevisionShare(Entry):
    """Requests one revision answered, its observed and configured percent, and the binomial tolerance."""

    requests: float | None = None
    observed_percent: float | None = None
    configured_percent: float | None = None
    tolerance_points: float | None = None
    deviation_points: float | None = None


@dataclass(frozen=True)
class TrafficSplit(Entry):
    """``traffic-split``: observed against configured share per revision."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"revisions", "tolerance_points"})
    OMIT_IF_NONE: ClassVar[frozenset[str]] = frozenset()
    revisions: dict[str, RevisionShare]
    total: int | None = None
    tolerance_points: float | None = None
    max_deviation_points: float | None = None
    within_tolerance: bool | None = None
    latest_revision: str | None = None
    configured: dict[str, float] | None = None
    snapshot: Mapping[str, Any] | None = None
    unreachable_pods: Mapping[str, Any] | None = None
    sent: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ColdStart(Entry):
    """``cold-start``: ms from sending the first request after scale-to-zero to each milestone of the new pod."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"first_request_ms", "parts"})
    first_request_ms: float
    parts: dict[str, float | None]
    pod: str | None = None
    status: int | None = None
    predictions: Any = None
    status_timestamps: dict[str, str | None] | None = None
    status_parts_s: dict[str, float | None] | None = None
    note: str | None = None


@dataclass(frozen=True)
class LatencyLayers(Entry):
    """``latency-layers``: median ms at each layer of the serving path and what each hop adds."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"layers", "added_ms"})
    layers: dict[str, float | None]
    added_ms: dict[str, float | None]
    pod: str | None = None
    revision: str | None = None
    mode: str | None = None
    requests_per_layer: int | None = None
    server_requests_counted: float | None = None
    samples_ms: dict[str, tuple[float, ...]] | None = None


@dataclass(frozen=True)
class ModeComparison(Entry):
    """``mode-compare``: Serverless and RawDeployment side by side (kslab/scenarios/observers/modecompare.py).

    ``rows`` are [metric, serverless, raw, unit]; ``levels`` is side -> path (endpoint, in_cluster) -> level ->
    {rounds, p50_ms, p50_min_ms, p50_max_ms, p99_ms, p99_min_ms, p99_max_ms, throughput_rps, errors};
    ``footprint`` side -> [[t_s, ready pods]]; ``cold_start`` the serverless cold start's parts (ms);
    ``rollout`` side -> {series, patched_at_s, done_at_s, rollout_s}; ``not_ready`` the sides never Ready."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"sides", "rows", "reading"})
    sides: dict[str, dict[str, Any]]
    rows: tuple[tuple[Any, ...], ...]
    reading: tuple[str, ...]
    levels: dict[str, dict[str, dict[str, dict[str, Any]]]] | None = None
    rounds: int | None = None
    footprint: dict[str, tuple[tuple[float, ...], ...]] | None = None
    cold_start: dict[str, float | None] | None = None
    rollout: dict[str, dict[str, Any]] | None = None
    not_ready: tuple[str, ...] | None = None


Observation = TrafficSplit | ColdStart | LatencyLayers | ModeComparison
OBSERVATIONS: dict[str, type[Observation]] = {
    "traffic-split": TrafficSplit, "cold-start": ColdStart, "latency-layers": LatencyLayers,
    "mode-compare": ModeComparison}


def observation(step: ScenarioStep, where: str = "step") -> Observation | None:
    """The typed observations of a measuring ``observe`` step; None for other steps, for a step that recorded
    nothing (it failed before its observer returned) and for one that did not record its observer kind."""
    if step.action != "observe" or not step.observations:
        return None
    chosen = OBSERVATIONS.get(step.observer or "")
    return chosen.from_dict(step.observations, f"{where}.observations") if chosen else None
