"""``mode-compare``: the side-by-side summary of a mode comparison and its number-backed reading.

It measures nothing itself: it reads what the earlier steps saved (``mode-ready``, ``footprint`` when deployed and
after the idle window, ``cold-start`` of the serverless side, ``mode-rounds``, ``rollout``, ``scale-reaction``),
plus the background replica timeline, and returns one :class:`ModeComparison` record entry: a table of metric x
side, the latency per level, the footprint over time, the cold-start parts, the rollout timelines, and sentences
whose every claim is computed from those numbers (which side is ahead is decided by the numbers, never assumed).

A side that never became Ready is reported (its stuck layer, from kslab's doctor) next to the other side's
numbers, and the step fails naming it.

Options (each the ``save:`` name of a step; a missing one leaves its rows out): ready (ready), deployed
(deployed), idle (idle), cold_start (cold), rounds (rounds), rollout (rollout), scale (scale).
"""

from __future__ import annotations

from typing import Any

from kslab.models.entries import ModeComparison
from kslab.scenarios.context import ScenarioContext, StepFailed
from kslab.scenarios.observers.modes import SIDES, side_names

PARTS = {"ready": "ready", "deployed": "deployed", "idle": "idle", "cold_start": "cold", "rounds": "rounds",
         "rollout": "rollout", "scale": "scale"}


def _saved(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {part: dict(ctx.saved.get(str(options.get(part) or default)) or {}) for part, default in PARTS.items()}


def _side(part: dict[str, Any], side: str) -> dict[str, Any]:
    return dict((part.get("sides") or {}).get(side) or {})


def _fmt(value: Any, digits: int = 1) -> str:
    return "-" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))


def _rows(names: dict[str, str], got: dict[str, dict[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = []

    def row(metric: str, pick: Any, unit: str) -> None:
        values = [pick(side) for side in SIDES]
        if any(v is not None for v in values):
            rows.append([metric, *values, unit])
    row("InferenceService", lambda s: names[s], "")
    row("deploymentMode", lambda s: _side(got["ready"], s).get("deployment_mode"), "as KServe records it")
    row("time to Ready", lambda s: _side(got["ready"], s).get("ready_s"), "s from apply")
    row("stuck at", lambda s: _side(got["ready"], s).get("stuck_layer"), "layer (kslab doctor)")
    for label, part in (("deployed", got["deployed"]), ("idle", got["idle"])):
        row(f"objects ({label})", lambda s, p=part: _side(p, s).get("object_total"), "owned by the InferenceService")
        row(f"pods ({label})", lambda s, p=part: _side(p, s).get("pods"), "live predictor pods")
        row(f"CPU requested ({label})", lambda s, p=part: (_side(p, s).get("requests_total") or {}).get("cpu_m"),
            "millicores, all pods")
    row("containers per pod", lambda s: ", ".join(_side(got["deployed"], s).get("containers") or []) or None, "")
    row("requests per pod", lambda s: _per_pod(_side(got["deployed"], s)), "CPU m / memory Mi")
    cold = got["cold_start"]
    row("cold start (first request)", lambda s: cold.get("first_request_ms") if s == "serverless" and cold
        else ("none" if s == "raw" and cold else None), "ms from sending it")
    for side_summary in _level_rows(got["rounds"]):
        rows.append(side_summary)
    rollout = got["rollout"]
    row("rollout to the new version", lambda s: _side(rollout, s).get("rollout_s"), "s until it served 100 %")
    row("failed requests during rollout", lambda s: _failed(_side(rollout, s)), "failed / sent")
    row("p99 during rollout", lambda s: _side(rollout, s).get("p99_ms"), "ms")
    scale = got["scale"]
    row("added ready replica after", lambda s: _reaction(_side(scale, s)), "s after the load step")
    return rows


def _per_pod(side: dict[str, Any]) -> str | None:
    per = side.get("requests_per_pod")
    return f"{per['cpu_m']} m / {_fmt(per['memory_mi'], 0)} Mi" if per else None


def _failed(side: dict[str, Any]) -> str | None:
    if not side:
        return None
    return f"{side.get('errors') or 0} / {side.get('requests') or 0}"


def _reaction(side: dict[str, Any]) -> Any:
    if not side:
        return None
    if side.get("reaction_s") is not None:
        return side["reaction_s"]
    return f"none in {_fmt(side.get('window_s'), 0)} s" + (f" ({side['hpa_scaling']})" if side.get("hpa_scaling")
                                                            else "")


def _level_rows(rounds: dict[str, Any]) -> list[list[Any]]:
    summary = rounds.get("summary") or {}
    rows = []
    for path in ("gateway", "in_cluster"):
        levels = sorted({int(level) for side in summary.values() for level in (side.get(path) or {})})
        for level in levels:
            for key, label in (("p50_ms", "p50"), ("p99_ms", "p99"), ("throughput_rps", "throughput")):
                cells = []
                for side in SIDES:
                    cell = ((summary.get(side) or {}).get(path) or {}).get(str(level)) or {}
                    value = cell.get(key)
                    spread = (f" [{_fmt(cell.get(key.replace('_ms', '_min_ms')))}-"
                              f"{_fmt(cell.get(key.replace('_ms', '_max_ms')))}]") if key != "throughput_rps" else ""
                    cells.append(None if value is None else f"{_fmt(value)}{spread}")
                unit = "req/s" if key == "throughput_rps" else "ms, median [min-max] of rounds"
                rows.append([f"{label} at c={level} ({path.replace('_', '-')})", *cells, unit])
    return rows


def _timeline(ctx: ScenarioContext, names: dict[str, str]) -> dict[str, list[list[float]]]:
    """Ready pods per side over the scenario, from the background replica timeline (sum over its Deployments)."""
    rows = list((ctx.result.get("timelines") or {}).get("replicas") or [])
    out: dict[str, list[list[float]]] = {}
    for side, name in names.items():
        current: dict[str, int] = {}
        series = []
        for row in rows:
            if str(row.get("name", "")).startswith(f"{name}-predictor"):
                current[str(row["name"])] = int(row.get("ready") or 0)
                series.append([float(row.get("t_s") or 0), float(sum(current.values()))])
        out[side] = series
    return out


def reading(names: dict[str, str], got: dict[str, dict[str, Any]]) -> list[str]:
    """Sentences in the lab's decision terms, each computed from the measured numbers (a measure missing on
    either side gives no sentence)."""
    sides = {key: {s: _side(got[key], s) for s in SIDES} for key in ("ready", "deployed", "idle", "rollout", "scale")}
    return [*_ready_sentences(names, sides["ready"]), *_footprint_sentences(sides["deployed"], sides["idle"]),
            *_cold_start_sentences(got["cold_start"], sides["idle"]["raw"]), *_latency_sentences(got["rounds"]),
            *_rollout_sentences(sides["rollout"]), *_scale_sentences(sides["scale"])]


def _ready_sentences(names: dict[str, str], ready: dict[str, dict[str, Any]]) -> list[str]:
    out = [f"{side} ({names[side]}) never became Ready: {ready[side].get('stuck')}; only the other side was measured."
           for side in SIDES if ready[side] and not ready[side].get("ready")]
    if all(ready[s].get("ready_s") is not None for s in SIDES):
        out.append(f"Time to Ready: serverless {_fmt(ready['serverless']['ready_s'], 2)} s, raw "
                   f"{_fmt(ready['raw']['ready_s'], 2)} s after apply.")
    return out


def _footprint_sentences(deployed: dict[str, dict[str, Any]], idle: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    if all(deployed[s] for s in SIDES):
        sls, raw = deployed["serverless"], deployed["raw"]
        out.append(f"Serverless creates {sls['object_total']} objects ({len(sls['objects'])} kinds), raw "
                   f"{raw['object_total']} ({len(raw['objects'])} kinds); a serverless pod runs "
                   f"{len(sls['containers'])} container(s) requesting {_per_pod(sls)}, a raw pod "
                   f"{len(raw['containers'])} requesting {_per_pod(raw)}.")
    if all(idle[s] for s in SIDES):
        cpu = {s: (idle[s].get("requests_total") or {}).get("cpu_m") for s in SIDES}
        out.append(f"At idle serverless holds {idle['serverless']['pods']} pod(s) vs {idle['raw']['pods']} for raw "
                   f"({cpu['serverless']} vs {cpu['raw']} m CPU requested).")
    return out


def _cold_start_sentences(cold: dict[str, Any], raw_idle: dict[str, Any]) -> list[str]:
    if cold.get("first_request_ms") is None:
        return []
    parts = cold.get("parts") or {}
    warm = raw_idle.get("pods") if raw_idle else None
    return [f"Its cold start costs {cold['first_request_ms'] / 1000:.2f} s (pod scheduled at "
            f"{_fmt(parts.get('scheduled_ms'))} ms, containers started {_fmt(parts.get('containers_started_ms'))}"
            f" ms, Ready {_fmt(parts.get('ready_ms'))} ms, answered {_fmt(parts.get('response_ms'))} ms); raw "
            f"has no cold start" + (f": it pays for {warm} warm pod(s) instead." if warm is not None else ".")]


def _rollout_sentences(rollout: dict[str, dict[str, Any]]) -> list[str]:
    if not all(rollout[s] for s in SIDES):
        return []
    return ["Rolling to the new version took " + " and ".join(
        f"{s} {_fmt(rollout[s].get('rollout_s'), 2)} s ({rollout[s].get('mechanism')}, "
        f"{_failed(rollout[s])} requests failed)" for s in SIDES) + "."]


def _reaction_phrase(side: str, scale: dict[str, Any]) -> str:
    if scale.get("reaction_s") is not None:
        return f"{side} ({scale.get('autoscaler')}) added a ready replica after {scale['reaction_s']:.2f} s"
    why = f" ({scale['hpa_scaling']})" if scale.get("hpa_scaling") else ""
    return f"{side} ({scale.get('autoscaler')}) added none within {_fmt(scale.get('window_s'), 0)} s{why}"


def _scale_sentences(scale: dict[str, dict[str, Any]]) -> list[str]:
    if not all(scale[s] for s in SIDES):
        return []
    return [f"After a load step to c={scale['serverless'].get('concurrency')}: "
            + "; ".join(_reaction_phrase(s, scale[s]) for s in SIDES) + "."]


def _latency_sentences(rounds: dict[str, Any]) -> list[str]:
    summary = rounds.get("summary") or {}
    out = []
    for path, where in (("gateway", "through the gateway"), ("in_cluster", "from inside the cluster")):
        common = set.intersection(*[set((summary.get(s) or {}).get(path) or {}) for s in SIDES])
        if not common:
            continue
        level = str(max(int(v) for v in common))
        cell = {s: summary[s][path][level] for s in SIDES}
        if any(cell[s].get("p99_ms") is None for s in SIDES):
            continue
        diff = cell["serverless"]["p99_ms"] - cell["raw"]["p99_ms"]
        overlap = (cell["serverless"]["p99_min_ms"] <= cell["raw"]["p99_max_ms"]
                   and cell["raw"]["p99_min_ms"] <= cell["serverless"]["p99_max_ms"])
        out.append(f"At c={level} {where}, serverless's p99 is {abs(diff):.1f} ms {'above' if diff >= 0 else 'below'} "
                   f"raw ({cell['serverless']['p99_ms']:.1f} vs {cell['raw']['p99_ms']:.1f} ms, median of "
                   f"{cell['serverless']['rounds']} rounds)" + ("; the rounds' ranges overlap, so the gap is within "
                                                                "this run's spread." if overlap else "."))
    return out


def observe_mode_compare(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    names = side_names(ctx, options)
    got = _saved(ctx, options)
    rollout = {s: {k: _side(got["rollout"], s).get(k) for k in ("series", "patched_at_s", "done_at_s", "rollout_s")}
               for s in SIDES if _side(got["rollout"], s)}
    failed = {s: _side(got["ready"], s) for s in SIDES
              if got["ready"] and not _side(got["ready"], s).get("ready")}
    result = ModeComparison(
        sides={s: {"isvc": names[s], **_side(got["ready"], s)} for s in SIDES},
        rows=tuple(tuple(r) for r in _rows(names, got)), reading=tuple(reading(names, got)),
        levels=(got["rounds"].get("summary") or None), rounds=got["rounds"].get("rounds"),
        footprint=_timeline(ctx, names), cold_start=(got["cold_start"].get("parts") or None),
        rollout=rollout or None, not_ready=tuple(sorted(failed)) or None).to_dict()
    if failed:
        side = sorted(failed)[0]
        raise StepFailed(f"{side} ({names[side]}) never became Ready: {failed[side].get('stuck')}; the comparison "
                         f"reports the other side only", failed[side].get("fix"), result)
    return result
