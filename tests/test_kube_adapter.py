"""kslab.kube against the fake API server: verbs, retries, typed errors and watch-based waits."""

from __future__ import annotations

import threading
import time

import pytest

from kslab.errors import WaitTimeout
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import condition_is
from kslab.kube.errors import ClusterUnreachable, KubeApiError, KubeconfigMissing, NotFound
from kslab.kube.wait import wait_for
from tests.fakecluster.resources import by_key

ISVC_KEY = "serving.kserve.io/inferenceservices"


@pytest.fixture
def fake_cluster_controllers():
    return False  # these tests make every state change themselves


@pytest.fixture
def cluster(fake_cluster):
    return fake_cluster


@pytest.fixture
def kube(cluster):
    return Kube(str(cluster.kubeconfig_path), backoff=0.01)


def isvc(name="sklearn-iris"):
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": name, "namespace": "kserve-test"},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"},
                                             "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model"}}}}


def set_ready(cluster, status="True", name="sklearn-iris"):
    def change(obj):
        obj["status"] = {"observedGeneration": obj["metadata"]["generation"],
                         "conditions": [{"type": "Ready", "status": status}]}
    cluster.store.mutate(by_key(ISVC_KEY), "kserve-test", name, change, subresource="status")


def test_apply_get_list_patch_delete(kube):
    kube.apply(R.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kserve-test"}})
    created = kube.apply(R.INFERENCE_SERVICE, isvc(), "kserve-test")
    assert created["metadata"]["generation"] == 1
    assert [o["metadata"]["name"] for o in kube.list(R.INFERENCE_SERVICE, "kserve-test")[0]] == ["sklearn-iris"]
    patched = kube.patch_merge(R.INFERENCE_SERVICE, "sklearn-iris", {"spec": {"predictor": {"minReplicas": 2}}},
                               "kserve-test")
    assert patched["metadata"]["generation"] == 2
    assert kube.get(R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test")["spec"]["predictor"]["minReplicas"] == 2
    kube.delete(R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test")
    assert kube.find(R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test") is None
    with pytest.raises(NotFound) as caught:
        kube.get(R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test")
    assert 'inferenceservices.serving.kserve.io "sklearn-iris" not found' in caught.value.message


def test_server_version(kube, cluster):
    assert kube.version()["git_version"] == cluster.kubernetes_version


def test_transient_500_and_429_are_retried(kube, cluster):
    cluster.faults.fail(r"/api/v1/namespaces/default$", statuses=[500, 429, 503])
    assert kube.get(R.NAMESPACE, "default")["metadata"]["name"] == "default"


def test_persistent_errors_surface_after_the_attempts(kube, cluster):
    cluster.faults.fail(r"/api/v1/namespaces/default$", statuses=[500] * 10)
    with pytest.raises(KubeApiError) as caught:
        kube.get(R.NAMESPACE, "default")
    assert caught.value.status == 500


def test_unreachable_cluster_is_an_environment_error(tmp_path, cluster):
    path = cluster.kubeconfig_path
    cluster.stop()
    with pytest.raises(ClusterUnreachable) as caught:
        Kube(str(path), backoff=0.01).version()
    assert caught.value.exit_code == 3


def test_missing_kubeconfig(tmp_path):
    with pytest.raises(KubeconfigMissing):
        Kube(str(tmp_path / "nope"))


def test_wait_reacts_to_the_watch_event_quickly(kube, cluster):
    cluster.store.create(by_key("/namespaces"), None, {"metadata": {"name": "kserve-test"}})
    kube.apply(R.INFERENCE_SERVICE, isvc(), "kserve-test")
    flipped = {}

    def flip():
        cluster.server.wait_for_watch("inferenceservices")  # the wait now follows live events: flip under it
        flipped["at"] = time.monotonic()
        set_ready(cluster)

    threading.Thread(target=flip, daemon=True).start()
    seen = []
    obj = wait_for(kube, R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test",
                   lambda o: condition_is(o, "Ready"), timeout=10, what="Ready", on_change=seen.append)
    noticed = time.monotonic() - flipped["at"]
    assert condition_is(obj, "Ready")
    assert noticed < 0.5, f"took {noticed:.3f}s to notice the Ready transition"
    assert len(seen) >= 2


def test_wait_ignores_stale_ready_until_observed_generation_catches_up(kube, cluster):
    cluster.store.create(by_key("/namespaces"), None, {"metadata": {"name": "kserve-test"}})
    kube.apply(R.INFERENCE_SERVICE, isvc(), "kserve-test")
    set_ready(cluster)
    kube.patch_merge(R.INFERENCE_SERVICE, "sklearn-iris", {"spec": {"predictor": {"minReplicas": 2}}}, "kserve-test")
    with pytest.raises(WaitTimeout):
        wait_for(kube, R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test", lambda o: condition_is(o, "Ready"),
                 timeout=1, what="Ready")


def test_wait_timeout_names_object_and_conditions(kube, cluster):
    cluster.store.create(by_key("/namespaces"), None, {"metadata": {"name": "kserve-test"}})
    kube.apply(R.INFERENCE_SERVICE, isvc(), "kserve-test")
    set_ready(cluster, status="False")
    cluster.store.create(by_key("/events"), "kserve-test", {
        "metadata": {"name": "sklearn-iris.1"}, "reason": "InternalError", "type": "Warning",
        "message": "no runtime found to support predictor", "lastTimestamp": "2026-01-01T00:00:00Z",
        "involvedObject": {"kind": "InferenceService", "name": "sklearn-iris", "namespace": "kserve-test"}})
    with pytest.raises(WaitTimeout) as caught:
        wait_for(kube, R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test", lambda o: condition_is(o, "Ready"),
                 timeout=1, what="Ready")
    message = caught.value.message
    assert "inferenceservice.serving.kserve.io/sklearn-iris -n kserve-test" in message
    assert "Ready=False" in message
    assert "events: InternalError: no runtime found to support predictor" in message
    assert caught.value.exit_code == 4


def test_wait_survives_410_gone(kube, cluster):
    cluster.store.create(by_key("/namespaces"), None, {"metadata": {"name": "kserve-test"}})
    kube.apply(R.INFERENCE_SERVICE, isvc(), "kserve-test")

    def compact_then_flip():
        cluster.server.wait_for_watch("inferenceservices")  # compact under the open watch, not before it opened
        cluster.store.create(by_key("/configmaps"), "kserve-test", {"metadata": {"name": "unrelated"}})
        cluster.store.compact()  # the open watch's cursor is now older than the history: 410 Gone
        set_ready(cluster)

    threading.Thread(target=compact_then_flip, daemon=True).start()
    obj = wait_for(kube, R.INFERENCE_SERVICE, "sklearn-iris", "kserve-test", lambda o: condition_is(o, "Ready"),
                   timeout=10, what="Ready")
    assert condition_is(obj, "Ready")
    rereads = cluster.server.requests(method="GET", contains="/inferenceservices/sklearn-iris")
    assert len(rereads) >= 2, "the 410 should have made the wait re-read the object"


def test_a_retrying_clone_shares_the_api_discovery(fake_cluster):
    """doctor asks through kube.retrying(2) and then through the session's client: one discovery serves both."""
    from kslab.kube.client import Kube

    kube = Kube(str(fake_cluster.kubeconfig_path), None)
    clone = kube.retrying(2)
    assert clone.attempts == 2 and kube.attempts != 2
    assert clone.dynamic is kube.dynamic
