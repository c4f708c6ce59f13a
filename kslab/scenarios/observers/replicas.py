"""``replicas``: ready/desired predictor replicas now, plus the max/min over the background timeline.

``max_seen`` is the most pods one revision (Deployment) had that were both Ready and wanted
(min(ready, desired)), so neither a Knative rollout that briefly runs an old and a new revision side by
side nor a rolling update's surge pod is mistaken for a scale-out; ``max_seen_total`` / ``min_seen`` are
over the sum of Ready pods of all predictor Deployments.

Knative mode: one Deployment per revision (``<revision>-deployment``) and its PodAutoscaler; Standard
mode: Deployment ``<isvc>-predictor`` and its HPA (whose spec is reported: without metrics-server the
HPA reports ScalingActive False).
"""

from __future__ import annotations

import time
from typing import Any

from kslab.errors import WaitTimeout
from kslab.kube import resources as R
from kslab.kube.errors import NotFound
from kslab.kube.wait import wait_for_list
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import number, seconds

REVISION_LABEL = "serving.knative.dev/revision"


def _deployments(ctx: ScenarioContext) -> list[dict[str, Any]]:
    items, _ = ctx.kube().list(R.DEPLOYMENT, ctx.namespace,
                               label_selector=f"serving.kserve.io/inferenceservice={ctx.isvc},component=predictor")
    return items


def _hpa(ctx: ScenarioContext, name: str) -> dict[str, Any] | None:
    hpa = ctx.kube().find(R.HPA, name, ctx.namespace)
    if hpa is None:
        return None
    spec = hpa.get("spec") or {}
    metrics = [((m.get("resource") or {}).get("name"), ((m.get("resource") or {}).get("target") or {}))
               for m in spec.get("metrics") or []]
    scaling = next((c for c in (hpa.get("status") or {}).get("conditions") or [] if c.get("type") == "ScalingActive"),
                   {})
    return {"name": name, "min": spec.get("minReplicas"), "max": spec.get("maxReplicas"),
            "metrics": [{"resource": r, "target": t} for r, t in metrics],
            "metric": metrics[0][0] if metrics else None,
            "scaling_active": scaling.get("status"), "scaling_reason": scaling.get("reason"),
            "scaling_message": scaling.get("message")}


def _podautoscaler(ctx: ScenarioContext, revision: str) -> dict[str, Any] | None:
    try:
        pa = ctx.kube().find(R.POD_AUTOSCALER, revision, ctx.namespace)
    except NotFound:
        return None
    if pa is None:
        return None
    status, annotations = pa.get("status") or {}, (pa.get("metadata") or {}).get("annotations") or {}
    return {"desired": status.get("desiredScale"), "actual": status.get("actualScale"),
            **{k.rsplit("/", 1)[1]: v for k, v in annotations.items() if k.startswith("autoscaling.knative.dev/")}}


def _settle(ctx: ScenarioContext, at_most: int, timeout: float) -> dict[str, Any]:
    """Wait (watch) until the predictor Deployments want at most ``at_most`` replicas in total."""
    started = time.monotonic()

    def total(items: list[dict[str, Any]]) -> int:
        return sum(int((d.get("spec") or {}).get("replicas") or 0) for d in items)
    try:
        wait_for_list(ctx.kube(), R.DEPLOYMENT, ctx.namespace, lambda items: total(items) <= at_most,
                      label_selector=f"serving.kserve.io/inferenceservice={ctx.isvc},component=predictor",
                      timeout=timeout, what=f"scaled back to at most {at_most} replicas",
                      describe=lambda items: f"{total(items)} replicas wanted")
    except WaitTimeout as exc:
        return {"settled": False, "settle_s": round(time.monotonic() - started, 3), "settle_error": exc.message}
    return {"settled": True, "settle_s": round(time.monotonic() - started, 3), "settle_error": None}


def observe_replicas(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    """Options: ``settle_at_most: N`` (+ ``timeout``) first waits for the scale-down to N replicas."""
    settle: dict[str, Any] = {}
    if options.get("settle_at_most") is not None:
        settle = _settle(ctx, int(number(options, "settle_at_most", 1)), seconds(options, "timeout", 120.0))
    by_revision: dict[str, Any] = {}
    for dep in _deployments(ctx):
        meta = dep.get("metadata") or {}
        labels = meta.get("labels") or {}
        group = str(labels.get(REVISION_LABEL) or meta.get("name"))
        entry = {"deployment": meta.get("name"), "ready": int((dep.get("status") or {}).get("readyReplicas") or 0),
                 "desired": int((dep.get("spec") or {}).get("replicas") or 0)}
        if REVISION_LABEL in labels:
            entry["podautoscaler"] = _podautoscaler(ctx, group)
        else:
            entry["hpa"] = _hpa(ctx, str(meta.get("name")))
        by_revision[group] = entry
    total = sum(e["ready"] for e in by_revision.values())
    # the background timeline (kslab/scenarios/timelines.py) publishes its live rows in result["timelines"]
    rows = [r for r in list((ctx.result.get("timelines") or {}).get("replicas") or [])
            if str(r.get("name", "")).startswith(f"{ctx.isvc}-predictor")]
    peak: dict[str, int] = {}
    for row in [*rows, *({"name": e["deployment"], "ready": e["ready"], "desired": e["desired"]}
                         for e in by_revision.values())]:
        wanted_and_ready = min(int(row.get("ready") or 0), int(row.get("desired") or 0))
        peak[str(row["name"])] = max(peak.get(str(row["name"]), 0), wanted_and_ready)
    seen = [*_totals(rows), total]
    hpa = next((e["hpa"] for e in by_revision.values() if e.get("hpa")), None)
    out = {"total_ready": total, "total_desired": sum(e["desired"] for e in by_revision.values()),
           "by_revision": by_revision, "max_seen": max(peak.values(), default=total),
           "max_seen_by_deployment": peak, "max_seen_total": max(seen), "min_seen": min(seen), "samples": len(seen),
           "hpa": hpa, **settle}
    out.update(hpa_outcome(hpa))
    return out


def hpa_outcome(hpa: dict[str, Any] | None) -> dict[str, Any]:
    """What the HPA's ScalingActive condition says: without metrics-server it is False/FailedGetResourceMetric
    (scaling not observable); with it, True. ``hpa_metrics_missing`` / ``hpa_metrics_available`` let a scenario
    branch on it (both False when there is no HPA)."""
    if hpa is None:
        return {"hpa_metrics_missing": False, "hpa_metrics_available": False}
    missing = hpa.get("scaling_reason") == "FailedGetResourceMetric"
    if missing:
        scaling = "not observable without metrics-server"
    elif hpa.get("scaling_active") == "True":
        scaling = "active"
    else:
        scaling = f"ScalingActive={hpa.get('scaling_active')} {hpa.get('scaling_reason') or ''}".strip()
    return {"hpa_scaling": scaling, "hpa_metrics_missing": missing, "hpa_metrics_available": not missing}


def _totals(rows: list[dict[str, Any]]) -> list[int]:
    """Total ready replicas after each timeline row (per Deployment, the latest value counts)."""
    current: dict[str, int] = {}
    out = []
    for row in rows:
        current[str(row.get("name"))] = int(row.get("ready") or 0)
        out.append(sum(current.values()))
    return out
