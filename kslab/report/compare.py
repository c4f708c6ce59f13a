"""Compare a run with a baseline metric by metric; thresholds (kslab.yaml report.thresholds) make it a CI gate.

A regression is: a p99 latency up by more than ``p99_increase_pct`` %, a throughput down by more than
``throughput_decrease_pct`` %, a scenario or smoke check failing now that did not fail in the baseline
(when ``scenario_newly_failing`` / ``check_newly_failing``), or a current run that did not finish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kslab.config.model import ReportThresholds
from kslab.report.summary import FAILING, summarize


@dataclass
class Comparison:
    baseline: str
    current: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "current": self.current, "regressed": bool(self.regressions),
                "regressions": self.regressions, "rows": self.rows}


def _change_pct(old: float, new: float) -> float | None:
    return None if old == 0 else round(100.0 * (new - old) / old, 1)


def _rule(metric: str, thresholds: ReportThresholds) -> tuple[str, float] | None:
    if metric.endswith(".p99_ms"):
        return "increase", float(thresholds.p99_increase_pct)
    if metric.endswith(".throughput_rps"):
        return "decrease", float(thresholds.throughput_decrease_pct)
    return None


def _metric_row(metric: str, old: float | None, new: float | None, thresholds: ReportThresholds) -> dict[str, Any]:
    row: dict[str, Any] = {"metric": metric, "baseline": old, "current": new, "change_pct": None,
                           "threshold": None, "verdict": "ok"}
    rule = _rule(metric, thresholds)
    if rule is not None:
        row["threshold"] = f"{'+' if rule[0] == 'increase' else '-'}{rule[1]:g} %"
    if old is None or new is None:
        row["verdict"] = "new" if old is None else "missing"
        return row
    change = _change_pct(old, new)
    row["change_pct"] = change
    if rule is not None and change is not None:
        crossed = change > rule[1] if rule[0] == "increase" else -change > rule[1]
        row["verdict"] = "regression" if crossed else "ok"
    return row


def _outcomes(summary: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """name → (kind, outcome) for every scenario and smoke check."""
    out = {f"scenario {s['name']}": ("scenario", s["verdict"]) for s in summary["scenarios"]}
    out |= {f"check {c['name']}": ("check", "passed" if c["ok"] else "failed") for c in summary["smoke"]}
    return out


def compare(baseline: dict[str, Any], current: dict[str, Any], thresholds: ReportThresholds) -> Comparison:
    old, new = summarize(baseline), summarize(current)
    result = Comparison(str(old.get("run_id")), str(new.get("run_id")))
    for metric in sorted(set(old["metrics"]) | set(new["metrics"])):
        row = _metric_row(metric, old["metrics"].get(metric), new["metrics"].get(metric), thresholds)
        result.rows.append(row)
        if row["verdict"] == "regression":
            result.regressions.append(f"{metric} {row['change_pct']:+g} % (threshold {row['threshold']})")
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
                            "threshold": "newly failing" if gates[kind] else None, "verdict": verdict})
        if verdict == "regression":
            result.regressions.append(f"{name} newly {now} (was {was or 'absent'})")
    if not new["complete"]:
        result.regressions.append(f"run {new.get('run_id')} is incomplete (result {new.get('result')})")
    return result
