"""The Deployment and ReplicaSet controllers: Deployment -> ReplicaSet <deploy>-<hash> -> pods.

A template change makes a new ReplicaSet; old ReplicaSets are scaled to zero once the new one is
fully ready. Pods are named <replicaset>-<5 chars>, carry the template labels plus
pod-template-hash, and are owned by the ReplicaSet (which the Deployment owns), so deleting a
Deployment cascades. Deployment status follows the real controller's counters and conditions
(Available/MinimumReplicasAvailable, Progressing/NewReplicaSetAvailable, ProgressDeadlineExceeded).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from typing import Any

from ..resources import DEPLOYMENTS, PODS, REPLICASETS
from ..store import Event
from .common import (
    delete_quietly,
    is_deleting,
    is_owned_by,
    owner_requests,
    random_suffix,
    selector_string,
    set_status,
    template_hash,
    with_owner,
)
from .conditions import put
from .framework import Reconciler, Request
from .pods import pod_is_ready

Obj = dict[str, Any]
MANAGER = "kube-controller-manager"


def desired_replicas(obj: Obj) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _max_unavailable(dep: Obj, replicas: int) -> int:
    strategy = (dep.get("spec") or {}).get("strategy") or {}
    raw = ((strategy.get("rollingUpdate") or {}).get("maxUnavailable")) if strategy.get("type") != "Recreate" else 0
    if raw is None:
        raw = "25%"
    if isinstance(raw, str) and raw.endswith("%"):
        return int(replicas * int(raw[:-1]) / 100)
    return int(raw)


class ReplicaSetReconciler(Reconciler):
    name = "replicasets"
    watches = ("apps/replicasets", "/pods")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == "/pods":
            return owner_requests(event.object, "ReplicaSet")
        return super().requests_for(event)

    def reconcile(self, namespace: str, name: str) -> None:
        rs = self.store.find(REPLICASETS, namespace, name)
        if rs is None or is_deleting(rs):
            return
        selector = selector_string(((rs.get("spec") or {}).get("selector") or {}).get("matchLabels"))
        pods, _ = self.store.list(PODS, namespace, label_selector=selector)
        mine = [p for p in pods if is_owned_by(p, rs) and not is_deleting(p)]
        want = desired_replicas(rs)
        if len(mine) < want:
            for _ in range(want - len(mine)):
                self._create_pod(rs)
        elif len(mine) > want:
            # Like the real controller: unscheduled first, then not ready, then the newest.
            mine.sort(key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]),
                      reverse=True)
            mine.sort(key=lambda p: (bool((p.get("spec") or {}).get("nodeName")), pod_is_ready(p)))
            for pod in mine[: len(mine) - want]:
                delete_quietly(self.store, PODS, namespace, pod["metadata"]["name"])
                self.mgr.events.record(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                                       "replicaset-controller")
        pods, _ = self.store.list(PODS, namespace, label_selector=selector)
        mine = [p for p in pods if is_owned_by(p, rs) and not is_deleting(p)]
        ready = sum(1 for p in mine if pod_is_ready(p))
        status = {"replicas": len(mine), "fullyLabeledReplicas": len(mine), "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        if not ready:
            status.pop("readyReplicas")
            status.pop("availableReplicas")
        set_status(self.store, REPLICASETS, rs, status, MANAGER)

    def _create_pod(self, rs: Obj) -> None:
        template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
        tmeta = template.get("metadata") or {}
        rs_name = rs["metadata"]["name"]
        spec = template.get("spec") or {}
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        for c in spec.get("containers") or []:
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("imagePullPolicy", "IfNotPresent")
        pod = {
            "metadata": {"name": f"{rs_name}-{random_suffix(self.mgr.rng)}", "generateName": f"{rs_name}-",
                         "labels": dict(tmeta.get("labels") or {}),
                         "annotations": dict(tmeta.get("annotations") or {})},
            "spec": spec,
            "status": {"phase": "Pending", "qosClass": _qos(spec)},
        }
        if not pod["metadata"]["annotations"]:
            pod["metadata"].pop("annotations")
        created = self.store.create(PODS, rs["metadata"]["namespace"], with_owner(pod, rs), manager=MANAGER,
                                    keep_status=True)
        self.mgr.events.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                               "replicaset-controller")


def _qos(spec: Obj) -> str:
    containers = spec.get("containers") or []
    res = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in res):
        return "BestEffort"
    guaranteed = all(r.get("limits") and all(k in r["limits"] for k in ("cpu", "memory"))
                     and all(r.get("requests", r["limits"]).get(k) == r["limits"].get(k) for k in ("cpu", "memory"))
                     for r in res)
    return "Guaranteed" if guaranteed else "Burstable"


class DeploymentReconciler(Reconciler):
    name = "deployments"
    watches = ("apps/deployments", "apps/replicasets")

    def __init__(self, mgr: Any) -> None:
        super().__init__(mgr)
        self._progress_since: dict[tuple[str, str], float] = {}  # (deployment uid, rs name) -> monotonic start

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == "apps/replicasets":
            return owner_requests(event.object, "Deployment")
        return super().requests_for(event)

    def reconcile(self, namespace: str, name: str) -> None:
        dep = self.store.find(DEPLOYMENTS, namespace, name)
        if dep is None or is_deleting(dep):
            return
        template = (dep.get("spec") or {}).get("template")
        if not template:
            return
        want = desired_replicas(dep)
        rs_hash = template_hash(template)
        rs_name = f"{name}-{rs_hash}"
        all_rs, _ = self.store.list(REPLICASETS, namespace)
        owned = [r for r in all_rs if is_owned_by(r, dep)]
        new_rs = next((r for r in owned if r["metadata"]["name"] == rs_name), None)
        old = [r for r in owned if r["metadata"]["name"] != rs_name]
        if new_rs is None:
            new_rs = self._create_rs(dep, rs_name, rs_hash, template, want)
        elif desired_replicas(new_rs) != want:
            before = desired_replicas(new_rs)
            self._scale(new_rs, want)
            verb = "up" if want > before else "down"
            self.mgr.events.record(dep, "Normal", "ScalingReplicaSet",
                                   f"Scaled {verb} replica set {rs_name} from {before} to {want}",
                                   "deployment-controller")
        new_ready = int((new_rs.get("status") or {}).get("readyReplicas") or 0)
        if new_ready >= want:
            for rs in old:
                if desired_replicas(rs) != 0:
                    before = desired_replicas(rs)
                    self._scale(rs, 0)
                    self.mgr.events.record(dep, "Normal", "ScalingReplicaSet",
                                           f"Scaled down replica set {rs['metadata']['name']} from {before} to 0",
                                           "deployment-controller")
        self._update_status(dep, new_rs, old, want)

    def _create_rs(self, dep: Obj, rs_name: str, rs_hash: str, template: Obj, replicas: int) -> Obj:
        template = copy.deepcopy(template)
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), "pod-template-hash": rs_hash}
        selector = copy.deepcopy((dep.get("spec") or {}).get("selector") or {"matchLabels": {}})
        selector.setdefault("matchLabels", {})["pod-template-hash"] = rs_hash
        rs = {"metadata": {"name": rs_name, "labels": dict(tmeta["labels"]),
                           "annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                           "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                           "deployment.kubernetes.io/revision": str(self._revision(dep))}},
              "spec": {"replicas": replicas, "selector": selector, "template": template}}
        created = self.store.create(REPLICASETS, dep["metadata"]["namespace"], with_owner(rs, dep), manager=MANAGER)
        self.mgr.events.record(dep, "Normal", "ScalingReplicaSet",
                               f"Scaled up replica set {rs_name} from 0 to {replicas}", "deployment-controller")
        return created

    def _revision(self, dep: Obj) -> int:
        all_rs, _ = self.store.list(REPLICASETS, dep["metadata"]["namespace"])
        revs = [int(((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")) or 0)
                for r in all_rs if is_owned_by(r, dep)]
        return max(revs, default=0) + 1

    def _scale(self, rs: Obj, replicas: int) -> None:
        def change(obj: Obj) -> None:
            obj["spec"]["replicas"] = replicas
            obj["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = str(replicas)
        self.store.mutate(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"], change, manager=MANAGER)

    def _update_status(self, dep: Obj, new_rs: Obj, old: list[Obj], want: int) -> None:
        namespace, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
        selector = selector_string(((dep.get("spec") or {}).get("selector") or {}).get("matchLabels"))
        pods, _ = self.store.list(PODS, namespace, label_selector=selector)
        new_pods = [p for p in pods if is_owned_by(p, new_rs) and not is_deleting(p)]
        all_pods = [p for p in pods if not is_deleting(p) and any(is_owned_by(p, rs) for rs in [new_rs, *old])]
        ready = sum(1 for p in all_pods if pod_is_ready(p))
        updated = len(new_pods)
        status = dict(dep.get("status") or {})
        status.update({"observedGeneration": dep["metadata"].get("generation", 1), "replicas": len(all_pods),
                       "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
                       "unavailableReplicas": max(0, len(all_pods) - ready)})
        for key in ("readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas", "replicas"):
            if not status[key]:
                status.pop(key)
        conds = [dict(c) for c in status.get("conditions") or []]
        if ready >= want - _max_unavailable(dep, want):
            put(conds, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            put(conds, "Available", "False", "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.")
        rs_name = new_rs["metadata"]["name"]
        complete = (sum(1 for p in new_pods if pod_is_ready(p)) >= want
                    and not any(p for p in all_pods if p not in new_pods))
        key = (str(dep["metadata"]["uid"]), rs_name)
        if complete:
            self._progress_since.pop(key, None)
            put(conds, "Progressing", "True", "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.')
        else:
            started = self._progress_since.setdefault(key, time.monotonic())
            deadline = self.settings.progress_deadline
            if deadline is None:
                deadline = float((dep.get("spec") or {}).get("progressDeadlineSeconds") or 600)
            scaled = self.settings.delay(deadline)
            current = next((c for c in conds if c.get("type") == "Progressing"), None)
            if current and current.get("reason") == "ProgressDeadlineExceeded":
                pass
            elif time.monotonic() - started >= scaled:
                put(conds, "Progressing", "False", "ProgressDeadlineExceeded",
                    f'ReplicaSet "{rs_name}" has timed out progressing.')
                self.mgr.events.record(dep, "Warning", "ProgressDeadlineExceeded",
                                       f'Deployment "{name}" has timed out progressing.', "deployment-controller")
            else:
                reason, msg = ("ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
                if current is None:
                    reason, msg = "NewReplicaSetCreated", f'Created new replica set "{rs_name}"'
                put(conds, "Progressing", "True", reason, msg)
                self.mgr.after(deadline + 0.001, lambda: self.enqueue(namespace, name),
                               key=f"deadline/{key[0]}/{rs_name}")
        status["conditions"] = conds
        set_status(self.store, DEPLOYMENTS, dep, status, MANAGER)
