"""Simulated Deployment/ReplicaSet controllers, scheduler and kubelet (tests/fakecluster/controllers)."""

from __future__ import annotations

import re

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import deployment, ensure_namespace, wait_for
from tests.fakecluster.resources import DEPLOYMENTS, EVENTS, NODES, PODS, REPLICASETS, by_key

UNSCHEDULABLE = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                 "1 No preemption victims found for incoming pod.")


def _available(cluster: FakeCluster, ns: str, name: str) -> dict | None:
    dep = cluster.store.get(DEPLOYMENTS, ns, name)
    cond = find_condition(dep, "Available")
    return dep if cond and cond["status"] == "True" and dep["status"].get("readyReplicas") == \
        dep["spec"]["replicas"] else None


def _pods(cluster: FakeCluster, ns: str, selector: str) -> list[dict]:
    return cluster.store.list(PODS, ns, label_selector=selector)[0]


def test_deployment_becomes_available_with_named_owned_running_pods(sim_cluster: FakeCluster) -> None:
    ensure_namespace(sim_cluster.store, "cert-manager")
    sim_cluster.store.create(DEPLOYMENTS, "cert-manager", deployment(
        "cert-manager-webhook", {"app": "webhook"}, "quay.io/jetstack/cert-manager-webhook:v1.17.0"))
    dep = wait_for(lambda: _available(sim_cluster, "cert-manager", "cert-manager-webhook"), 2, "Available")
    status = dep["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"], status["updatedReplicas"]) == \
        (1, 1, 1, 1)
    assert status["observedGeneration"] == dep["metadata"]["generation"]
    progressing = find_condition(dep, "Progressing")
    assert progressing is not None and progressing["reason"] == "NewReplicaSetAvailable"
    assert find_condition(dep, "Available")["reason"] == "MinimumReplicasAvailable"

    [pod] = _pods(sim_cluster, "cert-manager", "app=webhook")
    assert re.fullmatch(r"cert-manager-webhook-[0-9a-f]{10}-[a-z0-9]{5}", pod["metadata"]["name"])
    assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"].startswith("10.244.")
    assert all(cs["ready"] for cs in pod["status"]["containerStatuses"])
    [rs_ref] = pod["metadata"]["ownerReferences"]
    assert rs_ref["kind"] == "ReplicaSet" and pod["metadata"]["labels"]["pod-template-hash"] in rs_ref["name"]
    rs = sim_cluster.store.get(REPLICASETS, "cert-manager", rs_ref["name"])
    assert rs["metadata"]["ownerReferences"][0]["name"] == "cert-manager-webhook"
    log = sim_cluster.node.log("cert-manager", pod["metadata"]["name"], "cert-manager-webhook")
    assert log and "Starting" in log


def test_scaling_creates_and_deletes_pods(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    ensure_namespace(store, "demo")
    store.create(DEPLOYMENTS, "demo", deployment("web", {"app": "web"}, "nginx:1.27"))
    wait_for(lambda: _available(sim_cluster, "demo", "web"), 2, "Available")
    store.mutate(DEPLOYMENTS, "demo", "web", lambda o: o["spec"].update(replicas=3))
    wait_for(lambda: _available(sim_cluster, "demo", "web") and
             len(_pods(sim_cluster, "demo", "app=web")) == 3, 2, "three pods")
    store.mutate(DEPLOYMENTS, "demo", "web", lambda o: o["spec"].update(replicas=1))
    wait_for(lambda: len(_pods(sim_cluster, "demo", "app=web")) == 1, 2, "scale down to one pod")
    dep = wait_for(lambda: _available(sim_cluster, "demo", "web"), 2, "Available after scale down")
    assert dep["status"]["replicas"] == 1


def test_template_change_rolls_out_a_new_replicaset(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    ensure_namespace(store, "demo")
    store.create(DEPLOYMENTS, "demo", deployment("web", {"app": "web"}, "nginx:1.27"))
    wait_for(lambda: _available(sim_cluster, "demo", "web"), 2, "Available")
    old_hash = _pods(sim_cluster, "demo", "app=web")[0]["metadata"]["labels"]["pod-template-hash"]
    store.mutate(DEPLOYMENTS, "demo", "web",
                 lambda o: o["spec"]["template"]["spec"]["containers"][0].update(image="nginx:1.28"))
    pods = wait_for(lambda: (p := _pods(sim_cluster, "demo", "app=web")) and len(p) == 1 and
                    p[0]["metadata"]["labels"]["pod-template-hash"] != old_hash and
                    p[0]["status"]["phase"] == "Running" and p, 3, "rollout to the new template")
    assert pods[0]["spec"]["containers"][0]["image"] == "nginx:1.28"
    old_rs = store.get(REPLICASETS, "demo", f"web-{old_hash}")
    assert old_rs["spec"]["replicas"] == 0


def test_insufficient_cpu_leaves_pod_pending_until_capacity_frees(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    ensure_namespace(store, "demo")
    store.mutate(NODES, None, "kslab-control-plane",
                 lambda n: n["status"]["allocatable"].update(cpu="1"), subresource="status")
    store.create(DEPLOYMENTS, "demo", deployment("big", {"app": "big"}, "busybox", cpu="1500m"))

    def pending() -> dict | None:
        pods = _pods(sim_cluster, "demo", "app=big")
        cond = find_condition(pods[0], "PodScheduled") if pods else None
        return pods[0] if cond and cond["status"] == "False" else None
    pod = wait_for(pending, 2, "an unschedulable pod")
    cond = find_condition(pod, "PodScheduled")
    assert (cond["reason"], cond["message"]) == ("Unschedulable", UNSCHEDULABLE)
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
    events = [e for e in store.list(EVENTS, "demo")[0] if e["reason"] == "FailedScheduling"]
    assert events and events[0]["type"] == "Warning" and events[0]["message"] == UNSCHEDULABLE
    assert events[0]["involvedObject"]["name"] == pod["metadata"]["name"]
    dep = store.get(DEPLOYMENTS, "demo", "big")
    assert find_condition(dep, "Available")["status"] == "False"

    store.mutate(NODES, None, "kslab-control-plane",
                 lambda n: n["status"]["allocatable"].update(cpu="8"), subresource="status")
    wait_for(lambda: _available(sim_cluster, "demo", "big"), 2, "the pod to schedule once the node grows")


def test_deleting_a_deployment_cascades_to_replicasets_and_pods(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    ensure_namespace(store, "demo")
    store.create(DEPLOYMENTS, "demo", deployment("web", {"app": "web"}, "nginx:1.27"))
    wait_for(lambda: _available(sim_cluster, "demo", "web"), 2, "Available")
    store.delete(DEPLOYMENTS, "demo", "web")
    assert store.list(REPLICASETS, "demo")[0] == []
    assert _pods(sim_cluster, "demo", "app=web") == []


def test_endpoints_follow_ready_pods(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    ensure_namespace(store, "kserve")
    body = deployment("kserve-controller-manager", {"control-plane": "kserve-controller-manager"},
                      "kserve/kserve-controller:v0.20.0", "manager")
    body["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "webhook-server", "containerPort": 9443}]
    store.create(by_key("/services"), "kserve", {
        "metadata": {"name": "kserve-webhook-server-service"},
        "spec": {"selector": {"control-plane": "kserve-controller-manager"},
                 "ports": [{"port": 443, "targetPort": "webhook-server", "protocol": "TCP"}]}})
    store.create(DEPLOYMENTS, "kserve", body)
    endpoints = wait_for(lambda: (e := store.find(by_key("/endpoints"), "kserve", "kserve-webhook-server-service"))
                         and (e.get("subsets") or [{}])[0].get("addresses") and e, 2, "a ready endpoint")
    [subset] = endpoints["subsets"]
    [pod] = _pods(sim_cluster, "kserve", "control-plane=kserve-controller-manager")
    assert subset["addresses"][0]["ip"] == pod["status"]["podIP"]
    assert subset["addresses"][0]["targetRef"]["name"] == pod["metadata"]["name"]
    assert subset["ports"] == [{"port": 9443, "protocol": "TCP"}]
    store.mutate(DEPLOYMENTS, "kserve", "kserve-controller-manager", lambda o: o["spec"].update(replicas=0))
    wait_for(lambda: "subsets" not in store.get(by_key("/endpoints"), "kserve", "kserve-webhook-server-service"),
             2, "no endpoints once scaled to zero")
