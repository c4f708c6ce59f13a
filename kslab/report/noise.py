"""Run-to-run noise of a load measure, from the per-second samples of the load's ``series``.

A p99 or a throughput of one run is a single number; two identical runs minutes apart differ by tens of per
cent on a shared machine. The per-second series says how much each second varied, so a change between two runs
gets a 95 % confidence interval: Welch's interval for the difference of the mean log per-second value (latency
and rate vary by factors, not by fixed amounts), stratified by profile level (the seconds of level 1 are
compared with the seconds of level 1, and so on), weighted by the baseline's seconds per level. Back on the
linear scale that is the change of the geometric mean per second, in per cent, with its interval.

Only whole seconds count: warm-up seconds, a second two levels share (a level ends inside it) and the run's last
second (it ends inside it) are left out, so a 1-request sliver is never a sample.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from kslab.models.entries import LoadResult, SeriesRow

CONFIDENCE = 0.95
# Student's t, two-sided 95 %, by degrees of freedom (1..30); above 30 the normal 1.96 is close enough
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
MIN_VALUE = 1e-3  # a second with 0 requests counts as 0.001 (its log must exist)
MEASURES: dict[str, Callable[[SeriesRow], float | None]] = {
    "p99_ms": lambda row: row.p99_ms,
    "throughput_rps": lambda row: None if row.requests is None else float(row.requests),
}


def t95(df: float) -> float:
    """The two-sided 95 % quantile of Student's t; a fractional df rounds down (the wider interval)."""
    whole = max(int(df), 1)
    return _T95[whole - 1] if whole <= len(_T95) else 1.96


def whole_seconds(result: LoadResult) -> list[SeriesRow]:
    """The series rows that cover one whole second of one level, after warm-up."""
    rows = [row for row in result.series or () if not row.warmup]
    if not rows:
        return []
    last = max(row.t for row in rows)
    levels_of: dict[int, set[int]] = {}
    for row in rows:
        levels_of.setdefault(row.t, set()).add(row.step or 0)
    return [row for row in rows if row.t != last and len(levels_of[row.t]) == 1]


def samples(result: LoadResult, measure: str, level: int | None = None) -> dict[int, list[float]]:
    """level index → the logs of the per-second values of ``measure`` (one level only when ``level`` is given)."""
    read = MEASURES[measure]
    out: dict[int, list[float]] = {}
    for row in whole_seconds(result):
        value = read(row)
        if value is not None and (level is None or (row.step or 0) == level):
            out.setdefault(row.step or 0, []).append(math.log(max(float(value), MIN_VALUE)))
    return out


@dataclass(frozen=True)
class Interval:
    """The change of the per-second geometric mean from baseline to current, with its 95 % confidence interval
    (all three as log ratios: ``change`` and the interval ``low``…``high``)."""

    baseline_mean: float  # geometric means per second, in the measure's unit
    current_mean: float
    low: float
    high: float
    baseline_n: int
    current_n: int

    @property
    def change_pct(self) -> float:
        return 100.0 * (self.current_mean / self.baseline_mean - 1.0)

    @property
    def pct_bounds(self) -> tuple[float, float]:
        return 100.0 * math.expm1(self.low), 100.0 * math.expm1(self.high)

    def to_dict(self) -> dict[str, object]:
        low, high = self.pct_bounds
        return {"baseline_mean": round(self.baseline_mean, 3), "current_mean": round(self.current_mean, 3),
                "baseline_seconds": self.baseline_n, "current_seconds": self.current_n,
                "change_pct": round(self.change_pct, 1), "ci95_pct": [round(low, 1), round(high, 1)]}


def difference(baseline: dict[int, list[float]], current: dict[int, list[float]],
               min_seconds: int) -> Interval | None:
    """Welch's 95 % interval of the stratified mean difference of ``samples`` (logs); None when either run has
    fewer than ``min_seconds`` usable seconds, or a level has fewer than two in either run (no variance)."""
    levels = sorted(set(baseline) & set(current))
    base_n = sum(len(baseline[lv]) for lv in levels)
    curr_n = sum(len(current[lv]) for lv in levels)
    if not levels or base_n < min_seconds or curr_n < min_seconds or \
            any(len(baseline[lv]) < 2 or len(current[lv]) < 2 for lv in levels):
        return None
    base_mean = curr_mean = variance = df_denominator = 0.0
    for level in levels:
        old, new = baseline[level], current[level]
        weight = len(old) / base_n
        base_mean += weight * statistics.fmean(old)
        curr_mean += weight * statistics.fmean(new)
        parts = [weight ** 2 * statistics.variance(values) / len(values) for values in (old, new)]
        variance += sum(parts)
        df_denominator += sum(part ** 2 / (len(values) - 1) for part, values in zip(parts, (old, new), strict=True))
    df = variance ** 2 / df_denominator if df_denominator > 0 else math.inf
    half = t95(df) * math.sqrt(variance)
    diff = curr_mean - base_mean
    return Interval(math.exp(base_mean), math.exp(curr_mean), diff - half, diff + half, base_n, curr_n)
