"""``traffic-split``: how requests really spread over revisions, from each predictor pod's own counters.

Snapshot every predictor pod's ``request_predict_seconds_count`` (podmetrics), send ``requests``
predict calls through the managed endpoint (or, with ``baseline: <saved key>``, send nothing and
measure since that earlier observation), snapshot again and group the deltas by revision. Each
revision's observed share is compared with its configured percent (status.components.predictor.
traffic) within the binomial tolerance at z = 3.29 (~99.9 %), so a correct split fails about once in
a thousand runs and a split off by 30 points fails always.
"""

from __future__ import annotations

from typing import Any

from kslab.errors import CheckFailed, UsageError
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers import podmetrics
from kslab.scenarios.observers.common import (
    configured_split,
    instances,
    latest_revision,
    number,
    read_isvc,
    send_load,
)
from kslab.scenarios.observers.stats import Z_999, binomial_tolerance_points

DEFAULT_REQUESTS = 200
DEFAULT_CONCURRENCY = 4


def compare(counts: dict[str, float], configured: dict[str, float], z: float = Z_999) -> dict[str, Any]:
    """Observed vs configured percent per revision, the tolerance and whether every revision is within it."""
    total = round(sum(counts.values()))
    revisions: dict[str, Any] = {}
    tolerances, deviations, within = [], [], total > 0
    for revision in sorted(set(counts) | set(configured)):
        n = round(counts.get(revision, 0.0))
        observed = 100.0 * n / total if total else 0.0
        wanted = configured.get(revision, 0.0)
        tolerance = binomial_tolerance_points(wanted, total, z)
        deviation = abs(observed - wanted)
        revisions[revision] = {"requests": n, "observed_percent": round(observed, 2), "configured_percent": wanted,
                               "tolerance_points": round(tolerance, 2), "deviation_points": round(deviation, 2)}
        tolerances.append(tolerance)
        deviations.append(deviation)
        within = within and deviation <= tolerance + 1e-9
    return {"revisions": revisions, "total": total,
            "tolerance_points": round(max(tolerances), 2) if tolerances and total else None,
            "max_deviation_points": round(max(deviations), 2) if deviations else None,
            "within_tolerance": within}


def observe_traffic_split(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    kube = ctx.kube()
    baseline_key = options.get("baseline")
    sent: dict[str, Any] | None = None
    if baseline_key:
        earlier = ctx.saved.get(str(baseline_key))
        if not isinstance(earlier, dict) or "snapshot" not in earlier:
            raise UsageError(f"with.baseline {baseline_key!r} is not a saved traffic-split observation",
                             "save one first: {observe: traffic-split, with: {requests: 0}, save: <key>}")
        before = earlier["snapshot"]
    else:
        before = podmetrics.snapshot(kube, ctx.namespace, ctx.isvc)
        requests = int(number(options, "requests", DEFAULT_REQUESTS))
        if requests:
            concurrency = int(number(options, "concurrency", DEFAULT_CONCURRENCY, 1))
            protocol = str(options.get("protocol", "v1"))
            ctx.mark(f"traffic-split: sending {requests} requests")
            sent = send_load(ctx, requests, concurrency, protocol, instances(options))
            ctx.mark("traffic-split: requests done")
    after = podmetrics.snapshot(kube, ctx.namespace, ctx.isvc)
    isvc = read_isvc(ctx)
    configured = configured_split(isvc)
    counts = {rev: d["requests"] for rev, d in podmetrics.delta(before, after).items()}
    result = compare(counts, configured, number(options, "z", Z_999))
    result.update(latest_revision=latest_revision(isvc), configured=configured, snapshot=after,
                  unreachable_pods=after["unreachable"], sent=sent)
    if sent is not None and result["total"] == 0 and sent.get("requests"):
        raise CheckFailed(f"sent {sent['requests']} requests but no predictor pod of {ctx.isvc} counted any "
                          f"(request_predict_seconds_count unchanged); unreachable pods: {after['unreachable']}",
                          "check the pods' /metrics: kubectl get --raw "
                          f"/api/v1/namespaces/{ctx.namespace}/pods/<pod>:8080/proxy/metrics")
    return result
