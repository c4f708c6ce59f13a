"""Knative Serving stand-in, part 2: a Revision's Deployment, PodAutoscaler, Services and status.

Revision <rev> gets Deployment <rev>-deployment (pods labelled with the template labels plus
serving.knative.dev/revision, .../service, .../configuration, app=<rev>; containers = the user
container + queue-proxy with ports 8022/9090/9091/8012/8112), PodAutoscaler <rev>, and Services
<rev> (80->8012) and <rev>-private. Scale is owned by the autoscaler stand-in; the Deployment is
created with the initial scale. Revision conditions: ResourcesAvailable, ContainerHealthy, Ready
(Unknown/Deploying until a pod is ready; False/ProgressDeadlineExceeded when the Deployment times
out; ContainerHealthy and Ready False with reason ExitCode<n> while no pod is ready and a user container of
the first pod has terminated before, as knative/serving@knative-v1.21.1
pkg/reconciler/revision/reconcile_resources.go does) and Active (Info).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ..resources import DEPLOYMENTS, PODAUTOSCALERS, PODS, SERVICES
from ..store import Event
from .common import annotations_of, ensure, find_condition, is_deleting, labels_of, set_status
from .conditions import ConditionSet, find
from .framework import Reconciler, Request
from .knative_config import autoscaler_config, knative_running
from .knative_serving import REVISIONS, knative_controller_event

Obj = dict[str, Any]
MANAGER = "controller"
REV_STATUS = ConditionSet("Ready", "ResourcesAvailable", "ContainerHealthy")
QUEUE_PORTS = [("http-queueadm", 8022), ("http-autometric", 9090), ("http-usermetric", 9091), ("queue-port", 8012),
               ("https-port", 8112)]


def initial_scale(revision: Obj, config: dict[str, str]) -> int:
    ann = annotations_of(revision)
    initial = int(ann.get("autoscaling.knative.dev/initial-scale", config["initial-scale"]))
    if initial == 0 and config["allow-zero-initial-scale"] != "true":
        initial = 1
    minimum = int(ann.get("autoscaling.knative.dev/min-scale", config["min-scale"]))
    return max(initial, minimum)


def pod_labels(revision: Obj) -> dict[str, str]:
    name = revision["metadata"]["name"]
    labels = labels_of(revision)
    labels.pop("serving.knative.dev/routingState", None)
    labels.update({"serving.knative.dev/revision": name,
                   "serving.knative.dev/revisionUID": revision["metadata"]["uid"]})
    labels.setdefault("app", name)
    return labels


class RevisionReconciler(Reconciler):
    name = "revision"
    watches = (REVISIONS.key, "apps/deployments", PODAUTOSCALERS.key, "/pods")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return super().requests_for(event)
        if knative_controller_event(event):
            return list(self.resync())
        if event.key == "/pods":
            revision = labels_of(event.object).get("serving.knative.dev/revision")
            return [(event.namespace, revision)] if revision else ()
        refs = (event.object["metadata"].get("ownerReferences") or [])
        return [(event.namespace, str(r["name"])) for r in refs if r.get("kind") == "Revision"]

    def reconcile(self, namespace: str, name: str) -> None:
        rev = self.store.find(REVISIONS, namespace, name)
        if rev is None or is_deleting(rev) or not knative_running(self.store, self.settings):
            return
        config = autoscaler_config(self.store)
        dep = self.store.find(DEPLOYMENTS, namespace, f"{name}-deployment") or self._create_deployment(rev, config)
        pa = self.store.find(PODAUTOSCALERS, namespace, name) or self._create_pa(rev)
        for svc_name, private in ((name, False), (f"{name}-private", True)):
            if self.store.find(SERVICES, namespace, svc_name) is None:
                self._create_service(rev, svc_name, private)
        self._status(rev, dep, pa)

    def _create_deployment(self, rev: Obj, config: dict[str, str]) -> Obj:
        name = rev["metadata"]["name"]
        spec = copy.deepcopy(rev.get("spec") or {})
        containers = spec.pop("containers", None) or []
        for key in ("timeoutSeconds", "containerConcurrency", "responseStartTimeoutSeconds", "idleTimeoutSeconds"):
            spec.pop(key, None)
        labels = pod_labels(rev)
        env = [{"name": "PORT", "value": "8080"}, {"name": "K_REVISION", "value": name},
               {"name": "K_CONFIGURATION", "value": labels.get("serving.knative.dev/configuration", "")},
               {"name": "K_SERVICE", "value": labels.get("serving.knative.dev/service", "")}]
        for container in containers:
            ports = container.get("ports") or [{"containerPort": 8080}]
            container["ports"] = [{**ports[0], "name": "user-port", "protocol": "TCP"}]
            container["env"] = [*(container.get("env") or []), *env]
        version = self.settings.knative_serving_version
        queue = {"name": "queue-proxy", "image": f"gcr.io/knative-releases/knative.dev/serving/cmd/queue:v{version}",
                 "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in QUEUE_PORTS],
                 "resources": {"requests": {"cpu": "25m"}},
                 "env": [{"name": "SERVING_REVISION", "value": name}, {"name": "USER_PORT", "value": "8080"}],
                 "readinessProbe": {"httpGet": {"path": "/", "port": 8012}, "periodSeconds": 1}}
        spec["containers"] = [*containers, queue]
        spec.setdefault("enableServiceLinks", False)
        dep = {
            "metadata": {"name": f"{name}-deployment", "labels": dict(labels),
                         "annotations": {k: v for k, v in annotations_of(rev).items()
                                         if not k.startswith("serving.knative.dev/routes")}},
            "spec": {"replicas": initial_scale(rev, config), "progressDeadlineSeconds": 600,
                     "selector": {"matchLabels": {"serving.knative.dev/revisionUID": rev["metadata"]["uid"]}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": labels, "annotations": annotations_of(rev)}, "spec": spec}},
        }
        return ensure(self.store, DEPLOYMENTS, rev["metadata"]["namespace"], dep, owner=rev, manager=MANAGER)

    def _create_pa(self, rev: Obj) -> Obj:
        name = rev["metadata"]["name"]
        ann = {k: v for k, v in annotations_of(rev).items() if k.startswith("autoscaling.knative.dev/")}
        ann.setdefault("autoscaling.knative.dev/class", "kpa.autoscaling.knative.dev")
        ann.setdefault("autoscaling.knative.dev/metric", "concurrency")
        pa = {"metadata": {"name": name, "labels": pod_labels(rev), "annotations": ann},
              "spec": {"protocolType": "http1", "reachability": "Unknown",
                       "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{name}-deployment"}}}
        return ensure(self.store, PODAUTOSCALERS, rev["metadata"]["namespace"], pa, owner=rev, manager=MANAGER)

    def _create_service(self, rev: Obj, svc_name: str, private: bool) -> None:
        ports = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8012},
                 {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8112}]
        if private:
            ports += [{"name": "http-autometric", "port": 9090, "protocol": "TCP", "targetPort": 9090},
                      {"name": "http-usermetric", "port": 9091, "protocol": "TCP", "targetPort": 9091},
                      {"name": "http-queueadm", "port": 8022, "protocol": "TCP", "targetPort": 8022},
                      {"name": "http-istio", "port": 8012, "protocol": "TCP", "targetPort": 8012}]
        index = sum(ord(ch) for ch in svc_name) % 250
        labels = {**pod_labels(rev), "networking.internal.knative.dev/serviceType": "Private" if private else "Public"}
        svc = {"metadata": {"name": svc_name, "labels": labels},
               "spec": {"type": "ClusterIP", "clusterIP": f"10.96.{100 + index // 250}.{index + 2}",
                        "ports": ports,
                        "selector": {"serving.knative.dev/revisionUID": rev["metadata"]["uid"]} if private else None}}
        if not private:
            svc["spec"].pop("selector")
        ensure(self.store, SERVICES, rev["metadata"]["namespace"], svc, owner=rev, manager=MANAGER)

    def _exited_container(self, rev: Obj) -> tuple[int, str] | None:
        """(exit code, message) of the first pod's user container that terminated before, if any."""
        pods, _ = self.store.list(PODS, rev["metadata"]["namespace"],
                                  label_selector=f"serving.knative.dev/revision={rev['metadata']['name']}")
        pods = [p for p in pods if not is_deleting(p)]
        if not pods:
            return None
        for cs in (pods[0].get("status") or {}).get("containerStatuses") or []:
            last = (cs.get("lastState") or {}).get("terminated")
            if cs.get("name") != "queue-proxy" and last:
                return int(last.get("exitCode") or 0), str(last.get("message") or "")
        return None

    def _status(self, rev: Obj, dep: Obj, pa: Obj) -> None:
        status = copy.deepcopy(rev.get("status") or {})
        REV_STATUS.initialize(status)
        dstatus = dep.get("status") or {}
        ready = int(dstatus.get("readyReplicas") or 0)
        was_ready = (find(status.get("conditions"), "ResourcesAvailable") or {}).get("status") == "True"
        progressing = find_condition(dep, "Progressing") or {}
        exited = self._exited_container(rev) if ready == 0 else None
        if ready > 0:
            REV_STATUS.mark_true(status, "ResourcesAvailable")
            REV_STATUS.mark_true(status, "ContainerHealthy")
        elif exited is not None:
            code, message = exited
            REV_STATUS.mark_false(status, "ContainerHealthy", f"ExitCode{code}", f"Container failed with: {message}")
        elif was_ready:
            REV_STATUS.mark_true(status, "ResourcesAvailable")
            REV_STATUS.mark_true(status, "ContainerHealthy")
        elif progressing.get("reason") == "ProgressDeadlineExceeded":
            REV_STATUS.mark_false(status, "ResourcesAvailable", "ProgressDeadlineExceeded",
                                  "Initial scale was never achieved")
        else:
            REV_STATUS.mark_unknown(status, "ContainerHealthy", "Deploying")
            REV_STATUS.mark_unknown(status, "ResourcesAvailable", "Deploying")
        pstatus = pa.get("status") or {}
        if int(pstatus.get("actualScale") or 0) > 0:
            REV_STATUS.mark_true(status, "Active")
        elif pstatus.get("desiredScale") == 0:
            REV_STATUS.mark_false(status, "Active", "NoTraffic", "The target is not receiving traffic.")
        else:
            REV_STATUS.mark_unknown(status, "Active", "Queued",
                                    "Requests to the target are being buffered as resources are provisioned.")
        status.update({"observedGeneration": rev["metadata"].get("generation", 1), "actualReplicas": ready,
                       "desiredReplicas": int((dep.get("spec") or {}).get("replicas") or 0)})
        containers = (rev.get("spec") or {}).get("containers") or []
        status["containerStatuses"] = [{"name": c.get("name", "user-container"), "imageDigest": c.get("image", "")}
                                       for c in containers]
        set_status(self.store, REVISIONS, rev, status, MANAGER)
