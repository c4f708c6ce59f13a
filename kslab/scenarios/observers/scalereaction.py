"""``scale-reaction``: how long each side's autoscaler takes to add a ready replica after a load step.

For each Ready side in turn: count its Ready predictor pods, start ``concurrency`` connections of load through
its managed endpoint, and poll (0.1 s) until it has more Ready pods than before the step, or ``window`` passes.
Serverless is scaled by Knative's KPA on in-flight requests (the activator and queue-proxy report them); raw by
the Kubernetes HPA on CPU utilisation, which needs metrics-server: without it the HPA reports ScalingActive
False/FailedGetResourceMetric and never adds a replica, which is reported as what it is (``hpa_scaling``).

Options: serverless, raw, concurrency (20), window (30s). Result: sides{side: {isvc, autoscaler, before, after,
added, reaction_s (null: none within the window), window_s, requests, errors, hpa_scaling}}, skipped.
"""

from __future__ import annotations

import time
from typing import Any

from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import number, seconds
from kslab.scenarios.observers.modes import (
    BackgroundLoad,
    is_ready,
    load_figures,
    ready_count,
    ready_sides,
    request_body,
    side_target,
    wait_pods,
)

AUTOSCALER = {"serverless": "Knative KPA (in-flight requests)", "raw": "Kubernetes HPA (CPU utilisation)"}


def _hpa_scaling(ctx: ScenarioContext, name: str) -> str | None:
    from kslab.scenarios.observers.replicas import _hpa, hpa_outcome

    hpa = _hpa(ctx, f"{name}-predictor")
    return hpa_outcome(hpa).get("hpa_scaling") if hpa is not None else None


def _one(ctx: ScenarioContext, side: str, name: str, options: dict[str, Any], body: bytes) -> dict[str, Any]:
    window = seconds(options, "window", 30.0)
    concurrency = int(number(options, "concurrency", 20, 1))
    before = ready_count(ctx, name)
    out: dict[str, Any] = {"isvc": name, "autoscaler": AUTOSCALER[side], "before": before, "window_s": window,
                           "concurrency": concurrency}
    with side_target(ctx, name, body) as target:
        load = BackgroundLoad(target, concurrency, window + 5)
        started = time.monotonic()
        ctx.mark(f"scale-reaction: {side} load step to {concurrency}")
        try:
            added = wait_pods(ctx, name, lambda pods: sum(map(is_ready, pods)) > before, window,
                              f"more than {before} ready")
            out["reaction_s"] = round(time.monotonic() - started, 3) if added else None
        finally:
            result = load.stop()
    out["after"] = ready_count(ctx, name)
    out["added"] = max(out["after"] - before, 0) if out["reaction_s"] is not None else 0
    figures = load_figures(result)
    out.update(requests=figures["requests"], errors=figures["errors"])
    if side == "raw":
        out["hpa_scaling"] = _hpa_scaling(ctx, name)
    ctx.mark(f"scale-reaction: {side} " + (f"+{out['added']} ready after {out['reaction_s']}s"
                                           if out["reaction_s"] is not None else f"no replica added in {window:g}s"))
    return out


def observe_scale_reaction(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    ready, skipped = ready_sides(ctx, options)
    body = request_body(ctx, options)
    return {"sides": {side: _one(ctx, side, name, options, body) for side, name in ready.items()},
            "skipped": skipped}


