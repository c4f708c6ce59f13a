"""What a run measured, extracted once from the record and shared by every renderer and by compare.

The record is a plain dict (schema kslab.run/v1) written by several commands at several stages, so every
key may be missing: a killed run has steps still "running" and no finished_at.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

INCOMPLETE = ("running", "interrupted")
DEPLOY_STEPS = ("render", "lint", "storage", "apply", "wait", "model-build", "local-runtime", "ready")
CLUSTER_STEPS = ("preflight", "cluster", "kubernetes-version", "stack", "lab-namespace")
SMOKE_PREFIX = "smoke: "
LINEAR_EFFICIENCY = 0.8  # throughput per connection at least this share of the lowest level's: "linear"
FAILING = ("failed", "error", "interrupted")


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


def is_load_result(observations: Any) -> bool:
    return isinstance(observations, dict) and isinstance(observations.get("latency"), dict) \
        and "throughput_rps" in observations


def is_incomplete(record: dict[str, Any]) -> bool:
    return record.get("result") in INCOMPLETE or not record.get("finished_at")


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def load_results(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every load result in the run: top-level load steps, then each scenario's, keyed for compare."""
    found: list[dict[str, Any]] = []
    for step in _dicts(record.get("steps")):
        if is_load_result(step.get("observations")):
            found.append({"key": str(step.get("name", "load")), "scenario": None, "step": step.get("name"),
                          "step_started_at": step.get("started_at"), "result": step["observations"]})
    for scenario in _dicts(record.get("scenarios")):
        for index, load in enumerate(_dicts(scenario.get("load"))):
            if is_load_result(load):
                name = str(load.get("step") or f"load-{index + 1}")
                found.append({"key": f"{scenario.get('name', '?')}/{name}", "scenario": scenario.get("name"),
                              "step": name, "result": load})
    return found


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def profile_levels(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"level": _number(s.get("level")), "throughput_rps": s.get("throughput_rps"), "requests": s.get("requests"),
             "errors": s.get("error_total"), "p50_ms": (s.get("latency") or {}).get("p50_ms"),
             "p99_ms": (s.get("latency") or {}).get("p99_ms")}
            for s in _dicts(result.get("steps")) if isinstance(s.get("level"), int | float)]


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


def smoke_checks(record: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for step in _dicts(record.get("steps")):
        name = str(step.get("name", ""))
        if not name.startswith(SMOKE_PREFIX):
            continue
        obs = step.get("observations") if isinstance(step.get("observations"), dict) else {}
        ok = bool(obs.get("ok")) if "ok" in obs else step.get("result") == "ok"
        checks.append({"name": obs.get("name") or name[len(SMOKE_PREFIX):], "result": step.get("result"),
                       "ok": ok and step.get("result") == "ok", "expected": obs.get("expected"),
                       "actual": obs.get("actual"), "latency_ms": obs.get("latency_ms"),
                       "status_code": obs.get("status_code"), "error": step.get("error"),
                       "duration_s": step.get("duration_s")})
    return checks


def _span(steps: list[dict[str, Any]], names: tuple[str, ...]) -> float | None:
    chosen = [s for s in steps if s.get("name") in names and s.get("result") in ("ok", "failed")]
    if not chosen:
        return None
    return seconds_between(chosen[0].get("started_at"), chosen[-1].get("finished_at"))


def step_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    started = record.get("started_at")
    rows = []
    for step in _dicts(record.get("steps")):
        obs = step.get("observations") if isinstance(step.get("observations"), dict) else {}
        rows.append({"name": str(step.get("name", "?")), "result": str(step.get("result", "unknown")),
                     "duration_s": step.get("duration_s"), "offset_s": seconds_between(started, step.get("started_at")),
                     "detail": step.get("error") or obs.get("reason")})
    return rows


def scenario_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for scenario in _dicts(record.get("scenarios")):
        assertions = _dicts(scenario.get("assertions"))
        rows.append({"name": str(scenario.get("name", "?")), "verdict": str(scenario.get("verdict") or "unknown"),
                     "reason": scenario.get("reason"), "duration_s": scenario.get("duration_s"),
                     "assertions": len(assertions), "assertions_failed": sum(1 for a in assertions if not a.get("ok"))})
    return rows


def _fmt_ms(value: Any) -> str:
    return "-" if value is None else f"{value:g} ms"


def _headline(record: dict[str, Any], primary: dict[str, Any] | None, checks: list[dict[str, Any]],
              scenarios: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Table 1 of the lab write-up (average/maximum latency, throughput, scalability), from this run's data."""
    rows: list[dict[str, str]] = []
    if primary is not None:
        result = primary["result"]
        latency = result.get("latency") or {}
        source = f"kslab load ({primary['key']}, {result.get('mode', '?')}, {result.get('connections', '?')} conn.)"
        rows.append({"metric": "Average latency", "value": _fmt_ms(latency.get("mean_ms")),
                     "detail": f"p50 {_fmt_ms(latency.get('p50_ms'))}, p99 {_fmt_ms(latency.get('p99_ms'))}; {source}"})
        rows.append({"metric": "Maximum latency", "value": _fmt_ms(latency.get("max_ms")),
                     "detail": f"p99.9 {_fmt_ms(latency.get('p99_9_ms'))}; {latency.get('count', 0)} measured"})
        rps = result.get("throughput_rps")
        rows.append({"metric": "Throughput", "value": "-" if rps is None else f"{rps:g} requests/second",
                     "detail": f"{result.get('requests', 0)} requests in {result.get('elapsed_s', '?')} s "
                               f"(warm-up {result.get('warmup_s', 0)} s excluded)"})
        rows.append({"metric": "Scalability", "value": describe_scalability(scalability(profile_levels(result))),
                     "detail": f"throughput per connection within {LINEAR_EFFICIENCY:.0%} of the lowest level's"})
        requests, ok = result.get("requests") or 0, result.get("ok") or 0
        rows.append({"metric": "Availability", "value": f"{100.0 * ok / requests:.2f} %" if requests else "-",
                     "detail": f"{ok} of {requests} answered OK; errors {result.get('errors') or {}}"})
    steps = _dicts(record.get("steps"))
    for label, names in (("Cluster and stack ready", CLUSTER_STEPS), ("Deployment time", DEPLOY_STEPS)):
        span = _span(steps, names)
        if span is not None:
            done = [s["name"] for s in steps if s.get("name") in names]
            rows.append({"metric": label, "value": f"{span:g} s", "detail": " → ".join(dict.fromkeys(done))})
    if checks:
        passed = sum(1 for c in checks if c["ok"])
        rows.append({"metric": "Prediction checks", "value": f"{passed}/{len(checks)} passed",
                     "detail": "known-answer smoke checks (V1/V2 predictions, readiness, rejection)"})
    if scenarios:
        counts: dict[str, int] = {}
        for row in scenarios:
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
        rows.append({"metric": "Scenarios", "value": ", ".join(f"{n} {v}" for v, n in counts.items()),
                     "detail": ", ".join(f"{r['name']}: {r['verdict']}" for r in scenarios)})
    return rows


def metrics(loads: list[dict[str, Any]]) -> dict[str, float]:
    """Flat numbers compare looks at: '<load key>.<metric>'."""
    out: dict[str, float] = {}
    for load in loads:
        result, key = load["result"], load["key"]
        latency = result.get("latency") or {}
        for name in ("mean_ms", "p50_ms", "p99_ms", "max_ms"):
            if isinstance(latency.get(name), int | float):
                out[f"{key}.{name}"] = float(latency[name])
        if isinstance(result.get("throughput_rps"), int | float):
            out[f"{key}.throughput_rps"] = float(result["throughput_rps"])
        if result.get("requests"):
            out[f"{key}.error_pct"] = round(100.0 * (result.get("error_total") or 0) / result["requests"], 3)
        for level in profile_levels(result):
            if isinstance(level["throughput_rps"], int | float):
                out[f"{key}@c{level['level']}.throughput_rps"] = float(level["throughput_rps"])
            if isinstance(level["p99_ms"], int | float):
                out[f"{key}@c{level['level']}.p99_ms"] = float(level["p99_ms"])
    return out


def summarize(record: dict[str, Any]) -> dict[str, Any]:
    loads = load_results(record)
    primary = next((ld for ld in loads if ld["scenario"] is None), loads[0] if loads else None)
    checks = smoke_checks(record)
    scenarios = scenario_rows(record)
    settings = record.get("settings") if isinstance(record.get("settings"), dict) else {}
    duration = seconds_between(record.get("started_at"), record.get("finished_at"))
    return {
        "run_id": record.get("run_id"), "command": record.get("command"), "result": record.get("result"),
        "complete": not is_incomplete(record), "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"), "duration_s": duration, "provider": settings.get("provider"),
        "tool": record.get("tool") or {}, "cluster": record.get("cluster") or {}, "stack": record.get("stack") or {},
        "headline": _headline(record, primary, checks, scenarios),
        "checks": {"total": len(checks), "passed": sum(1 for c in checks if c["ok"]),
                   "failed": sum(1 for c in checks if not c["ok"])},
        "smoke": checks, "steps": step_rows(record), "scenarios": scenarios,
        "loads": [{"key": ld["key"], "scenario": ld["scenario"], "profile": profile_levels(ld["result"]),
                   **{k: ld["result"].get(k) for k in ("mode", "connections", "requests", "ok", "error_total",
                                                      "errors", "throughput_rps", "latency", "elapsed_s",
                                                      "interrupted")}} for ld in loads],
        "metrics": metrics(loads),
    }


def scenario_measurements(scenario: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Tables of what a scenario's observe steps measured: (title, headers, rows).

    Latency by layer (latency-breakdown: ms at each layer and what each layer adds), cold-start parts, and
    each traffic-split measurement (configured vs observed percent per revision).
    """
    tables: list[tuple[str, list[str], list[list[Any]]]] = []
    for step in _dicts(scenario.get("steps")):
        obs = step.get("observations") if isinstance(step.get("observations"), dict) else {}
        name = step.get("name")
        if isinstance(obs.get("layers"), dict) and isinstance(obs.get("added_ms"), dict):
            rows = [[layer, value] for layer, value in obs["layers"].items()]
            rows += [[f"added by {layer}", value] for layer, value in obs["added_ms"].items()]
            tables.append((f"{name}: latency by layer (median ms)", ["layer", "ms"], rows))
        if isinstance(obs.get("parts"), dict) and "first_request_ms" in obs:
            rows = [[part, value] for part, value in obs["parts"].items()]
            tables.append((f"{name}: first request after scale-to-zero (ms from sending it)", ["part", "ms"], rows))
        if isinstance(obs.get("revisions"), dict) and "tolerance_points" in obs:
            rows = [[rev, (v or {}).get("configured_percent"), (v or {}).get("observed_percent"),
                     (v or {}).get("requests")] for rev, v in obs["revisions"].items() if isinstance(v, dict)]
            tables.append((f"{name}: traffic split over {obs.get('total')} requests (tolerance ±"
                           f"{_number(obs.get('tolerance_points'))} points)",
                           ["revision", "configured %", "observed %", "requests"], rows))
    return tables
