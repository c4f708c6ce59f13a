"""What a run measured, extracted once from the record and shared by every renderer and by compare.

The record is read into typed entries (kslab/report/record.py); its header keys may be missing (a killed
run has steps still "running" and no finished_at).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kslab.models.entries import SMOKE_PREFIX, LoadLevel, LoadResult, Step
from kslab.report.measurements import scenario_measurements
from kslab.report.record import LoadRun, RunView, read_run

__all__ = ["SMOKE_PREFIX", "scenario_measurements"]  # with everything below: what renderers import from here

INCOMPLETE = ("running", "interrupted")
DEPLOY_STEPS = ("render", "lint", "storage", "apply", "wait", "model-build", "local-runtime", "ready")
CLUSTER_STEPS = ("preflight", "cluster", "kubernetes-version", "stack", "lab-namespace")
LINEAR_EFFICIENCY = 0.8  # throughput per connection at least this share of the lowest level's: "linear"
FAILING = ("failed", "error", "interrupted")
LOAD_FIELDS = ("mode", "connections", "requests", "ok", "error_total", "errors", "throughput_rps", "latency",
               "elapsed_s", "interrupted")
LATENCY_METRICS = ("mean_ms", "p50_ms", "p99_ms", "max_ms")


def parse_time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def seconds_between(start: Any, end: Any) -> float | None:
    begin, finish = parse_time(start), parse_time(end)
    return None if begin is None or finish is None else round((finish - begin).total_seconds(), 3)


def is_incomplete(record: Mapping[str, Any] | RunView) -> bool:
    header = record.record if isinstance(record, RunView) else record
    return header.get("result") in INCOMPLETE or not header.get("finished_at")


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _level_row(level: LoadLevel) -> dict[str, Any]:
    latency = level.latency
    return {"level": _number(level.level), "throughput_rps": level.throughput_rps, "requests": level.requests,
            "errors": level.error_total, "p50_ms": latency.p50_ms if latency else None,
            "p99_ms": latency.p99_ms if latency else None}


def profile_levels(result: LoadResult) -> list[dict[str, Any]]:
    return [_level_row(level) for level in result.steps or ()]


def scalability(levels: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Throughput against concurrency: up to which level it grew linearly, and where it peaked."""
    usable = [lv for lv in levels if lv["level"] and lv["throughput_rps"]]
    if len(usable) < 2:
        return None
    first = usable[0]
    per_connection = first["throughput_rps"] / first["level"]
    linear_up_to = first["level"]
    for level in usable[1:]:
        if level["throughput_rps"] / level["level"] < LINEAR_EFFICIENCY * per_connection:
            break
        linear_up_to = level["level"]
    peak = max(usable, key=lambda lv: lv["throughput_rps"])
    last = usable[-1]
    efficiency = (last["throughput_rps"] / first["throughput_rps"]) / (last["level"] / first["level"])
    return {"linear_up_to": linear_up_to, "peak_rps": peak["throughput_rps"], "peak_level": peak["level"],
            "levels": [lv["level"] for lv in usable], "efficiency_at_max": round(efficiency, 3)}


def describe_scalability(scale: dict[str, Any] | None) -> str:
    if scale is None:
        return "not measured (needs a load profile of two or more concurrency levels)"
    levels = scale["levels"]
    unit = "connection" if scale["linear_up_to"] == 1 else "connections"
    text = (f"linear up to {scale['linear_up_to']} {unit}; peak {scale['peak_rps']:g} req/s at "
            f"{scale['peak_level']} connections")
    if scale["linear_up_to"] == levels[-1]:
        text = f"linear up to {levels[-1]} connections (the highest level measured); peak {scale['peak_rps']:g} req/s"
    return f"{text} (levels {', '.join(str(v) for v in levels)}; efficiency at {levels[-1]}: " \
           f"{scale['efficiency_at_max']:.0%})"


def smoke_checks(run: RunView) -> list[dict[str, Any]]:
    rows = []
    for smoke in run.smoke:
        check, step = smoke.check, smoke.step
        rows.append({"name": smoke.name, "result": step.result, "ok": smoke.ok,
                     "expected": check.expected if check else None, "actual": check.actual if check else None,
                     "latency_ms": check.latency_ms if check else None,
                     "status_code": check.status_code if check else None, "error": step.error,
                     "duration_s": step.duration_s})
    return rows


def _span(steps: tuple[Step, ...], names: tuple[str, ...]) -> float | None:
    chosen = [s for s in steps if s.name in names and s.result in ("ok", "failed")]
    if not chosen:
        return None
    return seconds_between(chosen[0].started_at, chosen[-1].finished_at)


def step_rows(run: RunView) -> list[dict[str, Any]]:
    started = run.header("started_at")
    return [{"name": step.name, "result": step.result or "unknown", "duration_s": step.duration_s,
             "offset_s": seconds_between(started, step.started_at),
             "detail": step.error or (step.observations or {}).get("reason")} for step in run.steps]


def scenario_rows(run: RunView) -> list[dict[str, Any]]:
    rows = []
    for scenario in run.scenarios:
        entry = scenario.entry
        assertions = entry.assertions or ()
        rows.append({"name": entry.name, "verdict": entry.verdict_or_unknown, "reason": entry.reason,
                     "duration_s": entry.duration_s, "assertions": len(assertions),
                     "assertions_failed": sum(1 for a in assertions if not a.ok)})
    return rows


def _fmt_ms(value: Any) -> str:
    return "-" if value is None else f"{value:g} ms"


def _row(metric: str, value: str, detail: str) -> dict[str, str]:
    return {"metric": metric, "value": value, "detail": detail}


def _load_headline(primary: LoadRun) -> list[dict[str, str]]:
    """Average and maximum latency, throughput, scalability and availability of the run's main load."""
    result = primary.result
    latency = result.latency
    assert latency is not None  # a LoadRun is measured
    source = f"kslab load ({primary.key}, {result.mode or '?'}, {result.connections or '?'} conn.)"
    rps = result.throughput_rps
    requests, ok = result.requests or 0, result.ok or 0
    return [
        _row("Average latency", _fmt_ms(latency.mean_ms),
             f"p50 {_fmt_ms(latency.p50_ms)}, p99 {_fmt_ms(latency.p99_ms)}; {source}"),
        _row("Maximum latency", _fmt_ms(latency.max_ms),
             f"p99.9 {_fmt_ms(latency.p99_9_ms)}; {latency.count or 0} measured"),
        _row("Throughput", "-" if rps is None else f"{rps:g} requests/second",
             f"{result.requests or 0} requests in {'?' if result.elapsed_s is None else result.elapsed_s} s "
             f"(warm-up {result.warmup_s or 0} s excluded)"),
        _row("Scalability", describe_scalability(scalability(profile_levels(result))),
             f"throughput per connection within {LINEAR_EFFICIENCY:.0%} of the lowest level's"),
        _row("Availability", f"{100.0 * ok / requests:.2f} %" if requests else "-",
             f"{ok} of {requests} answered OK; errors {result.errors or {}}"),
    ]


def _span_headline(steps: tuple[Step, ...]) -> list[dict[str, str]]:
    """How long the cluster and stack, and the deployment, took (first to last of their steps)."""
    rows = []
    for label, names in (("Cluster and stack ready", CLUSTER_STEPS), ("Deployment time", DEPLOY_STEPS)):
        span = _span(steps, names)
        if span is not None:
            done = [s.name for s in steps if s.name in names]
            failed = next((s.name for s in steps if s.name in names and s.result not in ("ok", "skipped")), None)
            value = f"{span:g} s" if failed is None else f"not reached: {failed} {_result_word(steps, failed)}"
            rows.append(_row(label, value, " → ".join(dict.fromkeys(done))))
    return rows


def _result_word(steps: tuple[Step, ...], name: str) -> str:
    return next((str(s.result) for s in steps if s.name == name), "failed")


def _verdict_counts(scenarios: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for row in scenarios:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return ", ".join(f"{n} {v}" for v, n in counts.items())


def _headline(run: RunView, primary: LoadRun | None, checks: list[dict[str, Any]],
              scenarios: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Table 1 of the lab write-up (average/maximum latency, throughput, scalability), from this run's data."""
    rows = _load_headline(primary) if primary is not None else []
    rows += _span_headline(run.steps)
    if checks:
        passed = sum(1 for c in checks if c["ok"])
        rows.append(_row("Prediction checks", f"{passed}/{len(checks)} passed",
                         "known-answer smoke checks (V1/V2 predictions, readiness, rejection)"))
    if scenarios:
        rows.append(_row("Scenarios", _verdict_counts(scenarios),
                         ", ".join(f"{r['name']}: {r['verdict']}" for r in scenarios)))
    return rows


def _load_metrics(load: LoadRun) -> dict[str, float]:
    result, key = load.result, load.key
    latency = result.latency.to_dict() if result.latency else {}
    out = {f"{key}.{name}": float(latency[name]) for name in LATENCY_METRICS if latency.get(name) is not None}
    if result.throughput_rps is not None:
        out[f"{key}.throughput_rps"] = float(result.throughput_rps)
    if result.requests:
        out[f"{key}.error_pct"] = round(100.0 * (result.error_total or 0) / result.requests, 3)
    return out


def _level_metrics(load: LoadRun) -> dict[str, float]:
    out: dict[str, float] = {}
    for level in profile_levels(load.result):
        for name in ("throughput_rps", "p99_ms"):
            if level[name] is not None:
                out[f"{load.key}@c{level['level']}.{name}"] = float(level[name])
    return out


def metrics(loads: tuple[LoadRun, ...]) -> dict[str, float]:
    """Flat numbers compare looks at: '<load key>.<metric>'."""
    out: dict[str, float] = {}
    for load in loads:
        out |= _load_metrics(load) | _level_metrics(load)
    return out


def _load_summary(load: LoadRun) -> dict[str, Any]:
    written = load.result.to_dict()
    return {"key": load.key, "scenario": load.scenario, "profile": profile_levels(load.result),
            **{k: written.get(k) for k in LOAD_FIELDS}}


def summarize(record: Mapping[str, Any] | RunView) -> dict[str, Any]:
    run = read_run(record)
    primary = next((ld for ld in run.loads if ld.scenario is None), run.loads[0] if run.loads else None)
    checks = smoke_checks(run)
    scenarios = scenario_rows(run)
    header = run.header
    return {
        "run_id": header("run_id"), "command": header("command"), "result": header("result"),
        "complete": not is_incomplete(run), "started_at": header("started_at"),
        "finished_at": header("finished_at"),
        "duration_s": seconds_between(header("started_at"), header("finished_at")),
        "provider": run.section("settings").get("provider"),
        "tool": header("tool") or {}, "cluster": header("cluster") or {}, "stack": header("stack") or {},
        "headline": _headline(run, primary, checks, scenarios),
        "checks": {"total": len(checks), "passed": sum(1 for c in checks if c["ok"]),
                   "failed": sum(1 for c in checks if not c["ok"])},
        "smoke": checks, "steps": step_rows(run), "scenarios": scenarios,
        "loads": [_load_summary(ld) for ld in run.loads],
        "metrics": metrics(run.loads),
    }
