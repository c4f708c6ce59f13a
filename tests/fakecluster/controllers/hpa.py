"""HorizontalPodAutoscaler stand-in: keeps the target Deployment within [minReplicas, maxReplicas].

By default the cluster has no metrics-server, as a fresh kind cluster: the HPA reports that it cannot read
its metric (ScalingActive=False/FailedGetResourceMetric), as Kubernetes' HPA controller does
(kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go). With ``settings.metrics_server`` it reports
ScalingActive=True/ValidMetricFound. It never scales on load either way.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ..resources import DEPLOYMENTS, HPAS
from ..store import Event
from .common import is_deleting, set_status
from .conditions import put
from .framework import Reconciler, Request

Obj = dict[str, Any]
MANAGER = "horizontal-pod-autoscaler"


class HorizontalPodAutoscalerReconciler(Reconciler):
    name = "hpa"
    watches = (HPAS.key, "apps/deployments")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return super().requests_for(event)
        items, _ = self.store.list(HPAS, event.namespace)
        return [(event.namespace, h["metadata"]["name"]) for h in items
                if ((h.get("spec") or {}).get("scaleTargetRef") or {}).get("name") == event.object["metadata"]["name"]]

    def reconcile(self, namespace: str, name: str) -> None:
        hpa = self.store.find(HPAS, namespace, name)
        if hpa is None or is_deleting(hpa):
            return
        spec = hpa.get("spec") or {}
        target = (spec.get("scaleTargetRef") or {}).get("name", "")
        dep = self.store.find(DEPLOYMENTS, namespace, target)
        if dep is None:
            return
        current = int((dep.get("spec") or {}).get("replicas") or 1)
        low, high = int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1)
        desired = min(max(current, low), high)
        if desired != current:
            def scale(obj: Obj) -> None:
                obj["spec"]["replicas"] = desired
            self.store.mutate(DEPLOYMENTS, namespace, target, scale, manager=MANAGER)
            self.mgr.events.record(hpa, "Normal", "SuccessfulRescale",
                                   f"New size: {desired}; reason: Current number of replicas "
                                   f"{'below Spec.MinReplicas' if desired > current else 'above Spec.MaxReplicas'}",
                                   MANAGER)
        status = copy.deepcopy(hpa.get("status") or {})
        conds = status.setdefault("conditions", [])
        put(conds, "AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's "
            "current scale")
        metric = ((spec.get("metrics") or [{}])[0].get("resource") or {}).get("name", "cpu")
        if self.settings.metrics_server:
            put(conds, "ScalingActive", "True", "ValidMetricFound",
                f"the HPA was able to successfully calculate a replica count from {metric} resource utilization "
                "(percentage of request)")
        else:
            put(conds, "ScalingActive", "False", "FailedGetResourceMetric",
                f"the HPA was unable to compute the replica count: failed to get {metric} utilization: unable to get "
                f"metrics for resource {metric}: unable to fetch metrics from resource metrics API: the server could "
                "not find the requested resource (get pods.metrics.k8s.io)")
        status.update({"currentReplicas": int((dep.get("status") or {}).get("replicas") or 0),
                       "desiredReplicas": desired})
        set_status(self.store, HPAS, hpa, status, MANAGER)
