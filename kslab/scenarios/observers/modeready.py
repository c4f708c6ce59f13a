"""``mode-ready``: watch both InferenceServices of a mode comparison until each is Ready, fails, or ``timeout``.

Both are applied just before (their ``apply`` steps); ``ready_s`` of a side is from the end of the step that
applied it to the first poll (every 0.1 s) that saw it Ready with its generation caught up, in the scenario's
time base. A side that is not Ready in time is not an error here: it gets ``ready: false`` and the layer where
kslab's doctor finds it stuck (``stuck_layer``, ``stuck``, ``fix``), and the other side is measured on; the
``mode-compare`` summary fails the scenario naming it.

Options: serverless, raw (names), timeout (600s). Result: sides{side: {isvc, ready, ready_s, deployment_mode,
stuck_layer, stuck, fix}}, all_ready.
"""

from __future__ import annotations

from typing import Any

from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import seconds
from kslab.scenarios.observers.modes import isvc_outcome, side_names, wait_until


def _applied_at(ctx: ScenarioContext, name: str) -> float | None:
    """Scenario seconds at which the latest step that applied InferenceService ``name`` ended."""
    found = None
    for step in ctx.result.get("steps") or []:
        spec = (step.get("inputs") or {}).get("apply")
        if isinstance(spec, dict) and str(spec.get("isvc")) == name and step.get("duration_s") is not None:
            found = float(step.get("t_s") or 0) + float(step["duration_s"])
    return found


def _stuck(ctx: ScenarioContext, name: str) -> dict[str, Any]:
    from kslab.doctor.isvc import diagnose_isvc

    try:
        diagnosis = diagnose_isvc(ctx.kube(), name, ctx.namespace)
    except Exception as exc:  # the diagnosis is evidence; the comparison still reports the other side
        return {"stuck_layer": "unknown", "stuck": getattr(exc, "message", None) or str(exc), "fix": None}
    return {"stuck_layer": diagnosis.layer, "stuck": diagnosis.describe(), "fix": diagnosis.fix()}


def observe_mode_ready(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    names = side_names(ctx, options)
    timeout = seconds(options, "timeout", 600.0)
    seen: dict[str, float] = {}
    found: dict[str, Any] = {}
    states: dict[str, str | None] = {}

    def check() -> bool:
        for side, name in names.items():
            if side in seen:
                continue
            state, obj = isvc_outcome(ctx, name)
            found[side] = obj
            if state is not None:
                seen[side] = ctx.elapsed()
                ctx.mark(f"mode-ready: {side} {state}")
                states[side] = state
        return len(seen) == len(names)

    ctx.progress("mode-ready", "wait", f"{', '.join(names.values())} Ready")
    wait_until(ctx, check, timeout)
    sides: dict[str, Any] = {}
    for side, name in names.items():
        obj, state = found.get(side), states.get(side)
        status = (obj or {}).get("status") or {}
        annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
        entry: dict[str, Any] = {"isvc": name, "ready": state == "ready",
                                 "deployment_mode": status.get("deploymentMode")
                                 or annotations.get("serving.kserve.io/deploymentMode")}
        applied = _applied_at(ctx, name)
        entry["ready_s"] = round(seen[side] - applied, 3) if state == "ready" and applied is not None else None
        if state != "ready":
            entry.update(_stuck(ctx, name))
            entry["stuck"] = (f"not Ready within {timeout:g}s ({state or 'still deploying'}); "
                              f"{entry['stuck']}")
        sides[side] = entry
    return {"sides": sides, "all_ready": all(s["ready"] for s in sides.values()), "timeout_s": timeout}
