"""Knative-mode canary rollout in the simulated cluster (facts §4.2, §4.3 rollout bookkeeping, §8, §9)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import install_and_wait, sklearn_iris, wait_for
from tests.fakecluster.resources import DEPLOYMENTS, ISVCS, KSVCS, REVISIONS

NS, NAME = "kserve-test", "sklearn-iris"
REV1, REV2 = "sklearn-iris-predictor-00001", "sklearn-iris-predictor-00002"


@pytest.fixture
def lab(sim_cluster: FakeCluster) -> FakeCluster:
    install_and_wait(sim_cluster.store, sim_cluster.controllers.settings, lean=True)
    sim_cluster.store.create(ISVCS, NS, sklearn_iris())
    settled(sim_cluster)
    return sim_cluster


def settled(cluster: FakeCluster, traffic: list[dict[str, Any]] | None = None) -> dict:
    """Wait for Ready at the current generation (and, if given, exactly this predictor traffic)."""
    def check() -> dict | None:
        isvc = cluster.store.get(ISVCS, NS, NAME)
        status = isvc.get("status") or {}
        ok = (find_condition(isvc, "Ready") or {}).get("status") == "True" and \
            status.get("observedGeneration") == isvc["metadata"]["generation"]
        if traffic is not None:
            ok = ok and status.get("components", {}).get("predictor", {}).get("traffic") == traffic
        return isvc if ok else None
    return wait_for(check, 5, f"{NAME} Ready with traffic {traffic}")


def patch_predictor(cluster: FakeCluster, **changes: Any) -> None:
    def change(obj: dict) -> None:
        predictor = obj["spec"]["predictor"]
        for key, value in changes.items():
            if value is None:
                predictor.pop(key, None)
            else:
                predictor[key] = value
    cluster.store.mutate(ISVCS, NS, NAME, change, manager="kubectl-patch")


def revisions(cluster: FakeCluster) -> list[str]:
    return [r["metadata"]["name"] for r in cluster.store.list(REVISIONS, NS)[0]]


PREV_URL = "http://prev-sklearn-iris-predictor.kserve-test.example.com"


def test_canary_10_50_promote_and_rollback(lab: FakeCluster) -> None:
    # 1. template change + canaryTrafficPercent 10 -> revision 00002 gets 10 %, 00001 keeps 90 % (tag prev)
    patch_predictor(lab, canaryTrafficPercent=10, annotations={"kslab.dev/canary": "v2"})
    isvc = settled(lab, [{"revisionName": REV2, "latestRevision": True, "percent": 10},
                         {"tag": "prev", "revisionName": REV1, "latestRevision": False, "percent": 90,
                          "url": PREV_URL}])
    predictor = isvc["status"]["components"]["predictor"]
    assert (predictor["latestCreatedRevision"], predictor["latestReadyRevision"]) == (REV2, REV2)
    assert predictor["latestRolledoutRevision"] == REV1
    assert "previousRolledoutRevision" not in predictor
    assert revisions(lab) == [REV1, REV2]
    ksvc = lab.store.get(KSVCS, NS, "sklearn-iris-predictor")
    assert ksvc["spec"]["traffic"] == [{"latestRevision": True, "percent": 10},
                                      {"revisionName": REV1, "latestRevision": False, "percent": 90, "tag": "prev"}]

    # 2. 50 % -> only traffic moves, no new revision
    patch_predictor(lab, canaryTrafficPercent=50)
    settled(lab, [{"revisionName": REV2, "latestRevision": True, "percent": 50},
                  {"tag": "prev", "revisionName": REV1, "latestRevision": False, "percent": 50, "url": PREV_URL}])
    assert revisions(lab) == [REV1, REV2]

    # 3. promote (drop the field) -> 00002 at 100 %, rollout bookkeeping moves, 00001 scales down
    patch_predictor(lab, canaryTrafficPercent=None)
    isvc = settled(lab, [{"revisionName": REV2, "latestRevision": True, "percent": 100}])
    predictor = isvc["status"]["components"]["predictor"]
    assert (predictor["latestRolledoutRevision"], predictor["previousRolledoutRevision"]) == (REV2, REV1)
    wait_for(lambda: lab.store.get(DEPLOYMENTS, NS, f"{REV1}-deployment")["spec"]["replicas"] == 0, 3,
             "the unrouted revision to scale to zero")
    assert revisions(lab) == [REV1, REV2]

    # 4. rollback with canaryTrafficPercent 0 -> all traffic back on 00001
    patch_predictor(lab, canaryTrafficPercent=0)
    isvc = settled(lab, [{"revisionName": REV2, "latestRevision": True, "percent": 0},
                         {"tag": "prev", "revisionName": REV1, "latestRevision": False, "percent": 100,
                          "url": PREV_URL}])
    assert isvc["status"]["components"]["predictor"]["latestRolledoutRevision"] == REV1
    wait_for(lambda: lab.store.get(DEPLOYMENTS, NS, f"{REV1}-deployment")["status"].get("readyReplicas") == 1, 3,
             "00001 to come back")
    assert revisions(lab) == [REV1, REV2]


def test_canary_percent_alone_creates_no_revision(lab: FakeCluster) -> None:
    patch_predictor(lab, canaryTrafficPercent=10)
    isvc = settled(lab, [{"revisionName": REV1, "latestRevision": True, "percent": 10},
                         {"tag": "prev", "revisionName": REV1, "latestRevision": False, "percent": 90,
                          "url": PREV_URL}])
    assert isvc["metadata"]["generation"] == 2
    assert revisions(lab) == [REV1]
    assert isvc["status"]["components"]["predictor"]["latestRolledoutRevision"] == REV1


def test_rollback_during_canary_keeps_first_revision(lab: FakeCluster) -> None:
    patch_predictor(lab, canaryTrafficPercent=10, annotations={"kslab.dev/canary": "v2"})
    settled(lab, [{"revisionName": REV2, "latestRevision": True, "percent": 10},
                  {"tag": "prev", "revisionName": REV1, "latestRevision": False, "percent": 90, "url": PREV_URL}])
    patch_predictor(lab, canaryTrafficPercent=0)
    isvc = settled(lab, [{"revisionName": REV2, "latestRevision": True, "percent": 0},
                         {"tag": "prev", "revisionName": REV1, "latestRevision": False, "percent": 100,
                          "url": PREV_URL}])
    predictor = isvc["status"]["components"]["predictor"]
    assert predictor["latestRolledoutRevision"] == REV1 and "previousRolledoutRevision" not in predictor


def test_tag_routing_annotation_tags_latest_and_makes_a_new_revision(lab: FakeCluster) -> None:
    def annotate_and_split(obj: dict) -> None:  # one write, like a single `kubectl apply`
        obj["metadata"].setdefault("annotations", {})["serving.kserve.io/enable-tag-routing"] = "true"
        obj["spec"]["predictor"]["canaryTrafficPercent"] = 10
    lab.store.mutate(ISVCS, NS, NAME, annotate_and_split)
    isvc = settled(lab, [{"tag": "latest", "revisionName": REV2, "latestRevision": True, "percent": 10,
                          "url": "http://latest-sklearn-iris-predictor.kserve-test.example.com"},
                         {"tag": "prev", "revisionName": REV1, "latestRevision": False, "percent": 90,
                          "url": PREV_URL}])
    assert isvc["status"]["components"]["predictor"]["latestCreatedRevision"] == REV2
    assert revisions(lab) == [REV1, REV2]
