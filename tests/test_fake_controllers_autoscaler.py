"""Knative KPA stand-in: concurrency -> revision pods (facts §4.2: target x 70 %, clamped to min/max)."""

from __future__ import annotations

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import install_and_wait, sklearn_iris, wait_for
from tests.fakecluster.resources import DEPLOYMENTS, ISVCS, PODAUTOSCALERS, PODS, REVISIONS

NS, NAME, REV = "kserve-test", "sklearn-iris", "sklearn-iris-predictor-00001"


@pytest.fixture
def lab(sim_cluster: FakeCluster) -> FakeCluster:
    install_and_wait(sim_cluster.store, sim_cluster.controllers.settings, lean=True)
    return sim_cluster


def ready_pods(cluster: FakeCluster) -> int:
    pods = cluster.store.list(PODS, NS, label_selector=f"serving.knative.dev/revision={REV}")[0]
    return sum(1 for p in pods if (find_condition(p, "Ready") or {}).get("status") == "True")


def scaled_to(cluster: FakeCluster, pods: int) -> dict:
    def check() -> dict | None:
        pa = cluster.store.find(PODAUTOSCALERS, NS, REV)
        status = (pa or {}).get("status") or {}
        ok = status.get("desiredScale") == pods and status.get("actualScale") == pods and ready_pods(cluster) == pods
        return pa if ok else None
    return wait_for(check, 5, f"{pods} ready pods")


def wait_ready(cluster: FakeCluster) -> None:
    wait_for(lambda: (find_condition(cluster.store.get(ISVCS, NS, NAME), "Ready") or {}).get("status") == "True",
             5, "Ready")


def test_concurrency_drives_replicas(lab: FakeCluster) -> None:
    lab.store.create(ISVCS, NS, sklearn_iris(minReplicas=1, maxReplicas=6, scaleMetric="concurrency",
                                             scaleTarget=5))
    wait_ready(lab)
    pa = scaled_to(lab, 1)
    assert pa["metadata"]["annotations"]["autoscaling.knative.dev/target"] == "5"
    # ceil(load / (5 x 0.7)), clamped to [1, 6]; each step up or down from the previous one
    for concurrency, pods in ((20, 6), (8, 3), (3, 1), (100, 6), (0, 1), (7.5, 3)):
        lab.controllers.set_load(NS, NAME, concurrency)
        scaled_to(lab, pods)
        assert lab.store.get(DEPLOYMENTS, NS, f"{REV}-deployment")["spec"]["replicas"] == pods, concurrency


def test_scale_to_zero_with_min_replicas_zero(lab: FakeCluster) -> None:
    lab.store.create(ISVCS, NS, sklearn_iris(minReplicas=0))
    wait_ready(lab)
    pa = scaled_to(lab, 0)
    assert find_condition(pa, "Active")["reason"] == "NoTraffic"
    revision = wait_for(lambda: (r := lab.store.get(REVISIONS, NS, REV)) and
                        (find_condition(r, "Active") or {}).get("status") == "False" and r, 2, "revision inactive")
    assert find_condition(revision, "Active")["message"] == "The target is not receiving traffic."
    assert find_condition(revision, "Ready")["status"] == "True"
    assert find_condition(lab.store.get(ISVCS, NS, NAME), "Ready")["status"] == "True"
    lab.controllers.set_load(NS, NAME, 2)
    scaled_to(lab, 1)
