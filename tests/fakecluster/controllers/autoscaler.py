"""Knative autoscaler (KPA) stand-in: turns a test-supplied load into revision Deployment replicas.

``ControllerManager.set_load(ns, isvc, concurrency)`` sets the in-flight requests for one
InferenceService; each routed revision gets its traffic share. Desired pods = ceil(load /
(target x target-percentage)) clamped to [min-scale, max-scale] (facts §4.2: target from the
``autoscaling.knative.dev/target`` annotation, else containerConcurrency, else
container-concurrency-target-default; percentage 70 by default). Before a revision was ever ready
it keeps the initial scale; a revision no route sends traffic to scales to zero; with min-scale 0
and no load it scales to zero after the scale-to-zero grace period. PodAutoscaler status carries
desiredScale / actualScale.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable
from typing import Any

from ..resources import DEPLOYMENTS
from ..store import Event
from .common import annotations_of, is_deleting, labels_of, set_status
from .conditions import ConditionSet, find
from .framework import Reconciler, Request
from .knative_config import autoscaler_config, knative_running
from .knative_revisions import PODAUTOSCALERS, initial_scale
from .knative_serving import REVISIONS, ROUTES

Obj = dict[str, Any]
MANAGER = "autoscaler"
PA_STATUS = ConditionSet("Ready", "Active")


def _seconds(text: str) -> float:
    text = text.strip()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    if text.endswith("m"):
        return float(text[:-1]) * 60
    return float(text)


class AutoscalerReconciler(Reconciler):
    name = "autoscaler"
    watches = (PODAUTOSCALERS.key, "apps/deployments", ROUTES.key, REVISIONS.key)

    def __init__(self, mgr: Any) -> None:
        super().__init__(mgr)
        self._zero_since: dict[str, float] = {}

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return super().requests_for(event)
        if event.key == ROUTES.key:
            items, _ = self.store.list(PODAUTOSCALERS, event.namespace)
            return [(event.namespace, p["metadata"]["name"]) for p in items]
        if event.key == REVISIONS.key:
            return [(event.namespace, str(event.object["metadata"]["name"]))]
        refs = event.object["metadata"].get("ownerReferences") or []
        return [(event.namespace, str(r["name"])) for r in refs if r.get("kind") == "Revision"]

    def reconcile(self, namespace: str, name: str) -> None:
        pa = self.store.find(PODAUTOSCALERS, namespace, name)
        rev = self.store.find(REVISIONS, namespace, name)
        if pa is None or rev is None or is_deleting(pa) or not knative_running(self.store, self.settings):
            return
        dep = self.store.find(DEPLOYMENTS, namespace, f"{name}-deployment")
        if dep is None:
            return
        config = autoscaler_config(self.store)
        ann = annotations_of(rev)
        min_scale = int(ann.get("autoscaling.knative.dev/min-scale", config["min-scale"]))
        max_scale = int(ann.get("autoscaling.knative.dev/max-scale", config["max-scale"]))
        ever_ready = (find((rev.get("status") or {}).get("conditions"), "ResourcesAvailable") or {}
                      ).get("status") == "True"
        share = self._traffic_share(rev)
        current = int((dep.get("spec") or {}).get("replicas") or 0)
        if not ever_ready:
            desired = initial_scale(rev, config)
        elif share is None:
            desired = 0  # unreachable: no route sends traffic here
        else:
            load = self._load(rev) * share
            desired = math.ceil(load / self.effective_target(rev, config)) if load > 0 else 0
            desired = max(desired, min_scale)
            if desired == 0 and config["enable-scale-to-zero"] != "true":
                desired = 1
        if max_scale > 0:
            desired = min(desired, max_scale)
        if desired == 0 and current > 0:
            desired = self._after_grace(namespace, name, pa, current)
        else:
            self._zero_since.pop(pa["metadata"]["uid"], None)
        if desired != current:
            def scale(obj: Obj) -> None:
                obj["spec"]["replicas"] = desired
            self.store.mutate(DEPLOYMENTS, namespace, dep["metadata"]["name"], scale, manager=MANAGER)
        reachability = "Reachable" if share is not None else ("Unknown" if not ever_ready else "Unreachable")
        if (pa.get("spec") or {}).get("reachability") != reachability:
            def reach(obj: Obj) -> None:
                obj["spec"]["reachability"] = reachability
            pa = self.store.mutate(PODAUTOSCALERS, namespace, name, reach, manager=MANAGER) or pa
        self._status(pa, desired, int((dep.get("status") or {}).get("readyReplicas") or 0))

    @staticmethod
    def effective_target(rev: Obj, config: dict[str, str]) -> float:
        """Per-pod concurrency at which the KPA adds a pod: target x utilisation percentage."""
        ann = annotations_of(rev)
        if "autoscaling.knative.dev/target" in ann:
            target = float(ann["autoscaling.knative.dev/target"])
        elif ann.get("autoscaling.knative.dev/metric") == "rps":
            target = float(config["requests-per-second-target-default"])
        elif int((rev.get("spec") or {}).get("containerConcurrency") or 0) > 0:
            target = float(rev["spec"]["containerConcurrency"])
        else:
            target = float(config["container-concurrency-target-default"])
        percent = float(ann.get("autoscaling.knative.dev/target-utilization-percentage",
                                config["container-concurrency-target-percentage"]))
        return max(target * percent / 100.0, 0.01)

    def _load(self, rev: Obj) -> float:
        labels = labels_of(rev)
        namespace = rev["metadata"]["namespace"]
        for key in (labels.get("serving.kserve.io/inferenceservice"), labels.get("serving.knative.dev/service")):
            if key and (namespace, key) in self.mgr.loads:
                return self.mgr.loads[(namespace, key)]
        return 0.0

    def _traffic_share(self, rev: Obj) -> float | None:
        """Fraction of the route's traffic for this revision; None when no route references it."""
        labels = labels_of(rev)
        route = self.store.find(ROUTES, rev["metadata"]["namespace"],
                                labels.get("serving.knative.dev/configuration", ""))
        traffic = ((route or {}).get("status") or {}).get("traffic")
        if not traffic:
            return 1.0 if route is not None else None
        percents = [int(t.get("percent") or 0) for t in traffic if t.get("revisionName") == rev["metadata"]["name"]]
        return sum(percents) / 100.0 if percents else None

    def _after_grace(self, namespace: str, name: str, pa: Obj, current: int) -> int:
        uid = pa["metadata"]["uid"]
        since = self._zero_since.setdefault(uid, time.monotonic())
        grace = self.settings.scale_to_zero_grace
        if time.monotonic() - since >= self.settings.delay(grace):
            self._zero_since.pop(uid, None)
            return 0
        self.mgr.after(grace, lambda: self.enqueue(namespace, name), key=f"scale-to-zero/{uid}")
        return current

    def _status(self, pa: Obj, desired: int, actual: int) -> None:
        status = copy.deepcopy(pa.get("status") or {})
        PA_STATUS.initialize(status)
        if actual > 0:
            PA_STATUS.mark_true(status, "Active")
        elif desired == 0:
            PA_STATUS.mark_false(status, "Active", "NoTraffic", "The target is not receiving traffic.")
        else:
            PA_STATUS.mark_unknown(status, "Active", "Queued",
                                   "Requests to the target are being buffered as resources are provisioned.")
        name = pa["metadata"]["name"]
        status.update({"desiredScale": desired, "actualScale": actual, "serviceName": name,
                       "metricsServiceName": f"{name}-private",
                       "observedGeneration": pa["metadata"].get("generation", 1)})
        set_status(self.store, PODAUTOSCALERS, pa, status, MANAGER)
