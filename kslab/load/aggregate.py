"""Merge workers' per-second Ticks into totals, per-step results and a per-second series.

Histograms are merged exactly (HDR decode-and-add). Seconds are finalised to plain numbers a few
seconds after they end, so memory does not grow with the length of the run beyond one small row per second.
Seconds inside the warm-up (whole seconds, rounded up) appear in the series, marked, but not in the totals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from kslab.load.engine import EngineEnd, Tick
from kslab.load.histogram import decode, encode, new_histogram, summarize
from kslab.load.plan import LoadPlan
from kslab.models.entries import Latency, LoadLevel, LoadResult, SeriesRow

FINALISE_AFTER_S = 3


@dataclass
class _Counts:
    ok: int = 0
    late: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, tick: Tick) -> None:
        self.ok += tick.ok
        self.late += tick.late
        for kind, count in tick.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + count

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())


@dataclass
class _Bucket:
    counts: _Counts = field(default_factory=_Counts)
    histogram: HdrHistogram | None = None


def _p50_p99(histogram: HdrHistogram | None) -> tuple[float | None, float | None]:
    """One pass over the buckets (a full summary per second would cost several)."""
    if histogram is None or histogram.get_total_count() == 0:
        return None, None
    values = histogram.get_percentile_to_value_dict([50.0, 99.0])
    return values[50.0] / 1000, values[99.0] / 1000


class Aggregate:
    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.warmup_seconds = math.ceil(plan.warmup_s)
        self.total = new_histogram()
        self.counts = _Counts()
        self.step_histograms = [new_histogram() for _ in plan.steps]
        self.step_counts = [_Counts() for _ in plan.steps]
        self.pending: dict[tuple[int, int], _Bucket] = {}
        self.series: list[dict[str, Any]] = []
        self.latest_second = 0
        self.latest_step = 0  # the furthest step any worker has reported from
        self.last_row: dict[str, Any] | None = None

    def add(self, tick: Tick) -> None:
        histogram = decode(tick.histogram)
        bucket = self.pending.setdefault((tick.second, tick.step), _Bucket())
        bucket.counts.add(tick)
        if bucket.histogram is None:
            bucket.histogram = histogram
        else:
            bucket.histogram.add(histogram)
        if tick.second >= self.warmup_seconds:
            self.total.add(histogram)
            self.counts.add(tick)
            self.step_histograms[tick.step].add(histogram)
            self.step_counts[tick.step].add(tick)
        self.latest_step = max(self.latest_step, tick.step)
        if tick.second > self.latest_second:
            self.latest_second = tick.second
            self._finalise(tick.second - FINALISE_AFTER_S)

    def _finalise(self, up_to_second: int) -> None:
        for key in sorted(k for k in self.pending if k[0] <= up_to_second):
            bucket = self.pending.pop(key)
            p50, p99 = _p50_p99(bucket.histogram)
            row = {"t": key[0], "step": key[1], "requests": bucket.counts.ok + bucket.counts.error_total,
                   "ok": bucket.counts.ok, "errors": bucket.counts.error_total, "late": bucket.counts.late,
                   "p50_ms": p50, "p99_ms": p99,
                   "warmup": key[0] < self.warmup_seconds}
            self.series.append(row)
            self.last_row = row

    def live(self, elapsed_s: float) -> dict[str, Any]:
        """What a progress line shows: elapsed, OK answers per second so far, p99 so far, errors, and for a
        step profile the level running (``level``: index from 1, of, level, elapsed_s and duration_s in it)."""
        requests = self.counts.ok + self.counts.error_total
        measured = max(elapsed_s - self.warmup_seconds, 1e-9)
        p99 = self.total.get_value_at_percentile(99.0) / 1000 if self.total.get_total_count() else None
        return {"elapsed_s": round(elapsed_s, 1), "requests": requests,
                "rps": round(self.counts.ok / measured, 1) if elapsed_s > self.warmup_seconds else 0.0,
                "p99_ms": p99, "errors": self.counts.error_total, "warmup": elapsed_s < self.warmup_seconds,
                "level": self._level(elapsed_s) if self.plan.mode == "profile" else None}

    def _level(self, elapsed_s: float) -> dict[str, Any]:
        """The profile step running at ``elapsed_s``: the later of the schedule's and the workers' (a step whose
        requests all hang sends no ticks, yet its time runs)."""
        steps = self.plan.steps
        starts = [sum(s.duration_s or 0.0 for s in steps[:i]) for i in range(len(steps))]
        scheduled = max(i for i, start in enumerate(starts) if start <= elapsed_s or i == 0)
        index = min(max(scheduled, self.latest_step), len(steps) - 1)
        duration = steps[index].duration_s or 0.0
        return {"index": index + 1, "of": len(steps), "level": steps[index].level, "duration_s": duration,
                "elapsed_s": round(min(max(elapsed_s - starts[index], 0.0), duration), 1)}

    def load_result(self, target_url: str, elapsed_s: float, ends: list[EngineEnd]) -> LoadResult:
        """The run's result; its to_dict() is what the run record and `kslab load -o json` hold."""
        self._finalise(10**9)
        self.series.sort(key=lambda row: (row["t"], row["step"]))
        starts = ends[0].steps_started if ends else []
        steps = []
        for index, step in enumerate(self.plan.steps):
            begin = starts[index] if index < len(starts) else elapsed_s
            finish = starts[index + 1] if index + 1 < len(starts) else elapsed_s
            seconds = max(finish - max(begin, self.warmup_seconds if index == 0 else begin), 0.0)
            steps.append(LoadLevel(**self._block(self.step_counts[index], self.step_histograms[index], seconds),
                                   level=step.level))
        measured = max(elapsed_s - (self.warmup_seconds if self.plan.warmup_s else 0.0), 0.0)
        return LoadResult(
            target=target_url, mode=self.plan.mode, connections=self.plan.connections, workers=self.plan.workers,
            warmup_s=self.plan.warmup_s, elapsed_s=round(elapsed_s, 3), interrupted=any(e.interrupted for e in ends),
            unfinished=sum(e.unfinished for e in ends), **self._block(self.counts, self.total, measured),
            histogram=encode(self.total), steps=tuple(steps) if self.plan.mode == "profile" else None,
            series=tuple(SeriesRow(**row) for row in self.series))

    @staticmethod
    def _block(counts: _Counts, histogram: HdrHistogram, seconds: float) -> dict[str, Any]:
        requests = counts.ok + counts.error_total
        return {"requests": requests, "ok": counts.ok, "errors": dict(sorted(counts.errors.items())),
                "error_total": counts.error_total, "late": counts.late,
                "throughput_rps": round(counts.ok / seconds, 1) if seconds > 0 else None,  # answered, not sent
                "latency": Latency(**summarize(histogram))}


def level_text(level: dict[str, Any] | None) -> str:
    """A profile's running level for a progress line: 'c=10 (2/4) 7s/20s'; '' outside a profile."""
    if not level:
        return ""
    return (f"c={level['level']:g} ({level['index']}/{level['of']}) {int(level['elapsed_s'])}s/"
            f"{level['duration_s']:g}s")
