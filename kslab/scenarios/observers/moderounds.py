"""``mode-rounds``: steady-state latency and throughput of both sides per concurrency level, in interleaved rounds.

Each round visits every level; at each level both sides are loaded one after the other, the side going first
alternating from round to round, so drift over time (a busy node, a warming cache) hits both sides alike. Each
cell is ``requests`` predict calls at ``level`` connections after ``warmup`` calls (a serverless side that
scaled down between cells is warmed up again, so a cold start is not counted as steady state):

- ``gateway``: the path users take, the Istio ingress gateway with the host of the InferenceService's status.url
  (Knative: activator/queue-proxy behind it; Standard: KServe's Ingress to the predictor Service); the
  port-forward to the gateway is kept open for the whole observer, so its start is not measured, but it is in
  the path;
- ``in_cluster`` (``in_cluster: true``): the same cell from a load Job inside the cluster
  (kslab.load.incluster) against the InferenceService's cluster address (``status.address.url``), so no
  port-forward is in the path. It needs the load image: ``load.image``, or kslab's own on a kind/minikube node.

Every finished cell is also written to the scenario entry's ``partial.<step>`` right away, so a Ctrl-C
mid-comparison leaves the cells measured so far in run.json.

Options: serverless, raw, levels ("1,10" or a list), rounds (3), requests (40 per cell), warmup (2 x level),
in_cluster (false), in_cluster_levels (default: levels), protocol (v1). Result: levels, rounds, sides (measured),
skipped{side: why}, cells[{round, side, level, path, requests, ok, errors, throughput_rps, p50_ms, p99_ms,
mean_ms, max_ms}], summary{side: {path: {level: {rounds, p50_ms, p50_min_ms, p50_max_ms, p99_ms, p99_min_ms,
p99_max_ms, throughput_rps, errors}}}}, in_cluster_skipped.
"""

from __future__ import annotations

import contextlib
import statistics
from typing import Any

from kslab.errors import UsageError
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import number
from kslab.scenarios.observers.modes import load_figures, plan, ready_sides, request_body, side_target

PATHS = ("gateway", "in_cluster")


def levels_of(raw: Any) -> list[int]:
    items = raw if isinstance(raw, list | tuple) else str(raw).replace(" ", "").split(",")
    try:
        levels = [int(v) for v in items if str(v)]
    except ValueError:
        raise UsageError(f"with.levels must be concurrency levels such as 1,10, got {raw!r}") from None
    if not levels or min(levels) < 1:
        raise UsageError(f"with.levels must be concurrency levels of at least 1, got {raw!r}")
    return levels


def _in_cluster_image(ctx: ScenarioContext) -> tuple[str | None, str | None]:
    """(image, None) or (None, why the in-cluster cells are skipped)."""
    from kslab.stack.images import load_images

    if ctx.settings.load.image:
        return ctx.settings.load.image, None
    if ctx.provider.node_images() is not None:
        return load_images().kslab_image("load").tag, None
    return None, ("load.image is not set and kslab cannot load its load image onto this cluster's nodes; "
                  "push it to a registry and set load.image (docs/in-cluster-load.md)")


def _in_cluster(ctx: ScenarioContext, name: str, image: str, body: bytes, requests: int, level: int,
                protocol: str) -> dict[str, Any]:
    from kslab.inference.payloads import predict_path
    from kslab.kube import resources as R
    from kslab.load.incluster import InClusterLoad, run_in_cluster

    isvc = ctx.kube().get(R.INFERENCE_SERVICE, name, ctx.namespace)
    address = str(((isvc.get("status") or {}).get("address") or {}).get("url") or "").rstrip("/")
    load = InClusterLoad(namespace=ctx.namespace, model=name, url=address + predict_path(protocol, name), body=body,
                         plan=plan(requests, level), image=image)
    return run_in_cluster(ctx.kube(), load, lambda line: ctx.progress("mode-rounds", "in-cluster", line))


def summarise(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Per side, path and level: the median over rounds of p50/p99/throughput, with the spread (min..max)."""
    out: dict[str, Any] = {}
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for cell in cells:
        groups.setdefault((cell["side"], cell["path"], int(cell["level"])), []).append(cell)
    for (side, path, level), rows in sorted(groups.items()):
        entry: dict[str, Any] = {"rounds": len(rows), "errors": sum(int(r.get("errors") or 0) for r in rows)}
        for key in ("p50_ms", "p99_ms", "throughput_rps"):
            values = [float(r[key]) for r in rows if r.get(key) is not None]
            entry[key] = round(statistics.median(values), 3) if values else None
            if key != "throughput_rps":
                entry[key.replace("_ms", "_min_ms")] = round(min(values), 3) if values else None
                entry[key.replace("_ms", "_max_ms")] = round(max(values), 3) if values else None
        out.setdefault(side, {}).setdefault(path, {})[str(level)] = entry
    return out


def observe_mode_rounds(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    from kslab.load.recipe import drive

    levels = levels_of(options.get("levels", "1,10"))
    rounds = int(number(options, "rounds", 3, 1))
    requests = int(number(options, "requests", 40, 1))
    protocol = str(options.get("protocol") or "v1")
    ready, skipped = ready_sides(ctx, options)
    in_cluster_levels = levels_of(options["in_cluster_levels"]) if options.get("in_cluster_levels") else levels
    image, image_problem = _in_cluster_image(ctx) if options.get("in_cluster") else (None, None)
    body = request_body(ctx, options, protocol)
    cells: list[dict[str, Any]] = []
    out: dict[str, Any] = {"levels": levels, "rounds": rounds, "requests_per_cell": requests, "sides": list(ready),
                           "skipped": skipped, "in_cluster_skipped": image_problem, "cells": cells}
    partial = ctx.result.setdefault("partial", {})
    with contextlib.ExitStack() as stack:
        targets = {side: stack.enter_context(side_target(ctx, name, body, protocol)) for side, name in ready.items()}
        for index in range(rounds):
            order = list(targets) if index % 2 == 0 else list(reversed(list(targets)))
            for level in levels:
                for side in order:
                    ctx.progress("mode-rounds", "load", f"round {index + 1}/{rounds}, {side}, c={level}")
                    warm = int(number(options, "warmup", 2 * level, 0))
                    if warm:
                        drive(targets[side], plan(warm, level), stop=ctx.stop.is_set)
                    result = drive(targets[side], plan(requests, level), stop=ctx.stop.is_set).to_dict()
                    if result.get("interrupted"):
                        raise KeyboardInterrupt  # the load turned Ctrl-C into a partial result: stop here
                    cells.append({"round": index + 1, "side": side, "level": level, "path": "gateway",
                                  **load_figures(result)})
                    if image and level in in_cluster_levels:
                        merged = _in_cluster(ctx, ready[side], image, body, requests, level, protocol)
                        cells.append({"round": index + 1, "side": side, "level": level, "path": "in_cluster",
                                      **load_figures(merged)})
                    partial["mode-rounds"] = {**out, "summary": summarise(cells)}
                    ctx.record.flush()
    out["summary"] = summarise(cells)
    partial.pop("mode-rounds", None)
    return out
