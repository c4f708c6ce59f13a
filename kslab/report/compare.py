"""Compare a run with a baseline metric by metric; thresholds (kslab.yaml report.thresholds) make it a CI gate.

A regression is: a p99 latency up by more than ``p99_increase_pct`` %, or a throughput down by more than
``throughput_decrease_pct`` %, *beyond the noise* (below); a scenario or smoke check failing now that did not
fail in the baseline (when ``scenario_newly_failing`` / ``check_newly_failing``); or a current run that did not
finish.

The noise: two identical runs minutes apart differ by tens of per cent in p99 on a shared machine, so the gate
does not compare the two totals. It compares the per-second samples of the load's series (kslab/report/noise.py:
the geometric mean per-second p99 or requests per second, level by level, with a Welch 95 % confidence interval
of the change). A p99 or throughput regresses only when both runs have at least ``MIN_SECONDS`` whole seconds and
the whole interval is past the threshold: the change is larger than the threshold with 95 % confidence. A
metric with fewer seconds is shown but not gated (``too few samples``): its totals cannot tell a change from
noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kslab.config.model import ReportThresholds
from kslab.models.entries import LoadResult
from kslab.report.noise import CONFIDENCE, Interval, difference, samples
from kslab.report.record import read_run
from kslab.report.summary import FAILING, summarize

MIN_SECONDS = 10
METHOD = (f"per-second samples of each load's series (whole seconds after warm-up): the geometric mean "
          f"per-second p99 and requests per second, compared level by level with a Welch {CONFIDENCE:.0%} "
          f"confidence interval of the change; a p99/throughput regression needs >= {MIN_SECONDS} seconds in "
          f"both runs and the whole interval past the threshold")


@dataclass
class Comparison:
    baseline: str
    current: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "current": self.current, "regressed": bool(self.regressions),
                "regressions": self.regressions, "method": METHOD, "min_seconds": MIN_SECONDS,
                "rows": self.rows}


def _change_pct(old: float, new: float) -> float | None:
    return None if old == 0 else round(100.0 * (new - old) / old, 1)


def _rule(metric: str, thresholds: ReportThresholds) -> tuple[str, float] | None:
    if metric.endswith(".p99_ms"):
        return "increase", float(thresholds.p99_increase_pct)
    if metric.endswith(".throughput_rps"):
        return "decrease", float(thresholds.throughput_decrease_pct)
    return None


def _crossed(rule: tuple[str, float], change: float) -> bool:
    return change > rule[1] if rule[0] == "increase" else -change > rule[1]


def _noise_verdict(rule: tuple[str, float], interval: Interval | None) -> str:
    """regression (the whole interval is past the threshold), within noise (the change is, but its interval reaches
    back inside), ok, or too few samples."""
    if interval is None:
        return "too few samples"
    if not _crossed(rule, interval.change_pct):
        return "ok"
    low, high = interval.pct_bounds
    return "regression" if _crossed(rule, low if rule[0] == "increase" else high) else "within noise"


def _metric_row(metric: str, old: float | None, new: float | None, thresholds: ReportThresholds,
                interval: Interval | None) -> dict[str, Any]:
    row: dict[str, Any] = {"metric": metric, "baseline": old, "current": new, "change_pct": None,
                           "threshold": None, "verdict": "ok", "per_second": None}
    rule = _rule(metric, thresholds)
    if rule is not None:
        row["threshold"] = f"{'+' if rule[0] == 'increase' else '-'}{rule[1]:g} %"
        row["per_second"] = None if interval is None else interval.to_dict()
    if old is None or new is None:
        row["verdict"] = "new" if old is None else "missing"
        return row
    row["change_pct"] = _change_pct(old, new)
    if rule is not None:
        row["verdict"] = _noise_verdict(rule, interval)
    return row


def _split(metric: str) -> tuple[str, float | None, str]:
    """'load@c5.p99_ms' → ('load', 5.0, 'p99_ms'); 'canary/measure.p99_ms' → ('canary/measure', None, 'p99_ms')."""
    head, _, measure = metric.rpartition(".")
    key, at, level = head.rpartition("@c")
    if not at:
        return head, None, measure
    try:
        return key, float(level), measure
    except ValueError:
        return head, None, measure


def _level_index(result: LoadResult, level: float) -> int | None:
    return next((i for i, lv in enumerate(result.steps or ()) if float(lv.level) == level), None)


def interval_for(metric: str, old: dict[str, LoadResult], new: dict[str, LoadResult]) -> Interval | None:
    """The per-second interval of a p99/throughput metric, or None when the runs lack the samples."""
    key, level, measure = _split(metric)
    if key not in old or key not in new:
        return None
    if level is None:
        return difference(samples(old[key], measure), samples(new[key], measure), MIN_SECONDS)
    indices = _level_index(old[key], level), _level_index(new[key], level)
    if None in indices:
        return None
    before = samples(old[key], measure, indices[0]).get(indices[0], [])
    after = samples(new[key], measure, indices[1]).get(indices[1], [])
    return difference({0: before}, {0: after}, MIN_SECONDS)


def noise_text(noise: dict[str, Any] | None) -> str:
    """'+29 % [+8, +54] 16/16 s': the change of the per-second geometric means, its 95 % interval and the
    seconds each run had; '-' without one."""
    if not noise or noise.get("ci95_pct") is None:
        return "-"
    low, high = noise["ci95_pct"]
    return (f"{noise['change_pct']:+.0f} % [{low:+.0f}, {high:+.0f}] {noise['baseline_seconds']}/"
            f"{noise['current_seconds']} s")


def noise_rows(result: Comparison) -> list[dict[str, str]]:
    """What the gate compared for each p99/throughput metric, for a table beside the metrics table."""
    return [{"metric": row["metric"], "per-second change [95 % CI]": noise_text(row["per_second"]),
             "verdict": row["verdict"]} for row in result.rows if row.get("threshold") and "per_second" in row
            and row["metric"].endswith((".p99_ms", ".throughput_rps"))]


def _describe(metric: str, row: dict[str, Any]) -> str:
    return (f"{metric} {row['change_pct']:+g} % (per second {noise_text(row['per_second'])}, 95 % CI; threshold "
            f"{row['threshold']})")


def _outcomes(summary: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """name → (kind, outcome) for every scenario and smoke check."""
    out = {f"scenario {s['name']}": ("scenario", s["verdict"]) for s in summary["scenarios"]}
    out |= {f"check {c['name']}": ("check", "passed" if c["ok"] else "failed") for c in summary["smoke"]}
    return out


def _compare_outcomes(old: dict[str, Any], new: dict[str, Any], thresholds: ReportThresholds,
                      result: Comparison) -> None:
    gates = {"scenario": thresholds.scenario_newly_failing, "check": thresholds.check_newly_failing}
    before, after = _outcomes(old), _outcomes(new)
    for name in sorted(set(before) | set(after)):
        kind = (after.get(name) or before[name])[0]
        was, now = (before.get(name) or (kind, None))[1], (after.get(name) or (kind, None))[1]
        newly = now in FAILING and was not in FAILING
        verdict = ("regression" if gates[kind] else "newly failing") if newly else "ok"
        if now is None:
            verdict = "missing"
        result.rows.append({"metric": name, "baseline": was, "current": now, "change_pct": None,
                            "threshold": "newly failing" if gates[kind] else None, "verdict": verdict,
                            "per_second": None})
        if verdict == "regression":
            result.regressions.append(f"{name} newly {now} (was {was or 'absent'})")


def compare(baseline: dict[str, Any], current: dict[str, Any], thresholds: ReportThresholds) -> Comparison:
    old_run, new_run = read_run(baseline), read_run(current)
    old, new = summarize(old_run), summarize(new_run)
    loads_before = {ld.key: ld.result for ld in old_run.loads}
    loads_after = {ld.key: ld.result for ld in new_run.loads}
    result = Comparison(str(old.get("run_id")), str(new.get("run_id")))
    for metric in sorted(set(old["metrics"]) | set(new["metrics"])):
        interval = interval_for(metric, loads_before, loads_after) if _rule(metric, thresholds) else None
        row = _metric_row(metric, old["metrics"].get(metric), new["metrics"].get(metric), thresholds, interval)
        result.rows.append(row)
        if row["verdict"] == "regression":
            result.regressions.append(_describe(metric, row))
    _compare_outcomes(old, new, thresholds, result)
    if not new["complete"]:
        result.regressions.append(f"run {new.get('run_id')} is incomplete (result {new.get('result')})")
    return result
