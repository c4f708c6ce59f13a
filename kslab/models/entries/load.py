"""A load result (kslab/load/aggregate.py, merged in-cluster by kslab/load/podresult.py): what `kslab load`,
`kslab lab` and a scenario's traffic step write, as a run-record step's observations or in a scenario's
``load`` list (run schema: ``$defs/loadResult``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kslab.models.entries.codec import Entry


@dataclass(frozen=True)
class Latency(Entry):
    """HDR percentiles in milliseconds (None when nothing was measured)."""

    count: int | None = None
    min_ms: float | None = None
    mean_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p99_9_ms: float | None = None
    max_ms: float | None = None


@dataclass(frozen=True)
class LoadLevel(Entry):
    """One level of a profile run (``steps[]``): its counts and latency."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"level"})
    requests: int | None = None
    ok: int | None = None
    errors: dict[str, int] | None = None
    error_total: int | None = None
    late: int | None = None
    throughput_rps: float | None = None
    latency: Latency | None = None
    level: float = 0


@dataclass(frozen=True)
class SeriesRow(Entry):
    """One second of the run (``series[]``; ``step`` is the profile level's index)."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"t"})
    t: int = 0
    step: int | None = None
    requests: int | None = None
    ok: int | None = None
    errors: int | None = None
    late: int | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    warmup: bool | None = None


@dataclass(frozen=True)
class LoadEvent(Entry):
    """A labelled moment in a scenario's time base (a scenario's ``events[]``, a traffic step's start and end)."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"t_s", "label"})
    t_s: float = 0.0
    at: str | None = None
    label: str = ""


@dataclass(frozen=True)
class LoadResult(Entry):
    """The totals after warm-up, per-level ``steps`` (profile runs only), the per-second ``series``; in a
    scenario's ``load`` list also the traffic ``step`` that drove it and when it ran (scenario seconds)."""

    OMIT_IF_NONE: ClassVar[frozenset[str]] = frozenset({"steps", "step", "t_start_s", "t_end_s", "events"})
    target: str | None = None
    mode: str | None = None
    connections: int | None = None
    workers: int | None = None
    warmup_s: float | None = None
    elapsed_s: float | None = None
    interrupted: bool | None = None
    unfinished: int | None = None
    requests: int | None = None
    ok: int | None = None
    errors: dict[str, int] | None = None
    error_total: int | None = None
    late: int | None = None
    throughput_rps: float | None = None
    latency: Latency | None = None
    histogram: str | None = None
    steps: tuple[LoadLevel, ...] | None = None
    series: tuple[SeriesRow, ...] | None = None
    step: str | None = None
    t_start_s: float | None = None
    t_end_s: float | None = None
    events: tuple[LoadEvent, ...] | None = None

    @property
    def measured(self) -> bool:
        """False for a background run that ended before it measured anything (it records only its counts)."""
        return self.latency is not None
