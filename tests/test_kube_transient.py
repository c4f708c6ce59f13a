"""Transient API failures on the paths the plain call retries missed: lazy API discovery, the watch request, a
watch stream cut mid-read, and the API server going away while a wait follows a watch (issue 13, item 3)."""

from __future__ import annotations

import re
import threading
import time

import pytest

from kslab.exitcodes import ExitCode
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import condition_is
from kslab.kube.errors import ClusterUnreachable
from kslab.kube.wait import wait_for
from tests.fakecluster.resources import by_key

ISVC_KEY = "serving.kserve.io/inferenceservices"
NS, NAME = "kserve-test", "sklearn-iris"


@pytest.fixture
def fake_cluster_controllers():
    return False  # each test makes the state changes itself


def _kube(cluster) -> Kube:
    """A client with quick retries; the fake cluster forgot the client's discovery cache for its address on start."""
    return Kube(str(cluster.kubeconfig_path), backoff=0.01)


def _seed(cluster) -> None:
    cluster.store.create(by_key("/namespaces"), None, {"metadata": {"name": NS}})
    cluster.store.create(by_key(ISVC_KEY), NS, {
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": {"name": NAME},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"},
                                         "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model"}}}})


def _set(cluster, change) -> None:
    cluster.store.mutate(by_key(ISVC_KEY), NS, NAME, change, subresource="status")


def _ready(obj) -> None:
    obj["status"] = {"observedGeneration": obj["metadata"]["generation"],
                     "conditions": [{"type": "Ready", "status": "True"}]}


def _not_ready(obj) -> None:
    obj["status"] = {"conditions": [{"type": "Ready", "status": "False", "reason": "Starting"}]}


def _in_thread(fn) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def _wait_ready(kube: Kube, timeout: float = 15):
    return wait_for(kube, R.INFERENCE_SERVICE, NAME, NS, lambda o: condition_is(o, "Ready"), timeout=timeout,
                    what="Ready")


def test_one_500_on_lazy_api_discovery_is_retried(fake_cluster):
    _seed(fake_cluster)
    kube = _kube(fake_cluster)
    kube.version()  # the client is built and the group list read; the group's resources are read on first use
    rule = fake_cluster.faults.fail(r"^/apis/serving\.kserve\.io/v1beta1$", [500])
    items, _ = kube.list(R.INFERENCE_SERVICE, NS)
    assert [i["metadata"]["name"] for i in items] == [NAME]
    assert rule.failed == 1, "the discovery request should have met the injected 500"


def test_a_group_whose_discovery_answers_503_is_unavailable_not_missing(fake_cluster):
    """The client's discoverer reads a 503 on /apis/<group>/<version> (an API server answering for an aggregated
    or not-yet-ready group) as "no resources": kslab asks the group itself and retries, instead of reporting that
    the server has no such resource type."""
    _seed(fake_cluster)
    kube = _kube(fake_cluster)
    kube.version()
    rule = fake_cluster.faults.fail(r"^/apis/serving\.kserve\.io/v1beta1$", [503, 503, 503])
    items, _ = kube.list(R.INFERENCE_SERVICE, NS)
    assert [i["metadata"]["name"] for i in items] == [NAME]
    assert rule.failed == 3


def test_a_group_that_stays_unavailable_says_so(fake_cluster):
    _seed(fake_cluster)
    kube = _kube(fake_cluster)
    kube.version()
    fake_cluster.faults.fail(r"^/apis/serving\.kserve\.io/v1beta1$", [503] * 50)
    with pytest.raises(Exception) as raised:
        kube.list(R.INFERENCE_SERVICE, NS)
    message = getattr(raised.value, "message", str(raised.value))
    assert "doesn't have a resource type" not in message, message
    assert "the API group serving.kserve.io/v1beta1 is unavailable (its discovery answered 503)" in message, message


def test_a_group_that_really_lacks_the_type_is_still_not_found(fake_cluster):
    from kslab.kube.errors import NotFound
    from kslab.kube.resources import ResourceRef

    kube = _kube(fake_cluster)
    missing = ResourceRef("serving.kserve.io/v1beta1", "NoSuchKind", "nosuchkinds", True)
    with pytest.raises(NotFound, match="doesn't have a resource type"):
        kube.list(missing, NS)


def test_one_500_on_the_watch_request_is_retried(fake_cluster):
    _seed(fake_cluster)
    kube = _kube(fake_cluster)
    rule = fake_cluster.faults.fail(r"/inferenceservices$", [500], method="GET")

    def flip() -> None:
        fake_cluster.server.wait_for_watch("inferenceservices")
        _set(fake_cluster, _ready)
    thread = _in_thread(flip)
    assert condition_is(_wait_ready(kube), "Ready")
    thread.join(5)
    assert rule.failed == 1


@pytest.mark.parametrize("abrupt", [True, False])
def test_a_watch_cut_mid_stream_resumes_from_the_last_resource_version(fake_cluster, abrupt):
    _seed(fake_cluster)
    kube = _kube(fake_cluster)
    fake_cluster.faults.drop_watch(r"/inferenceservices$", 1, abrupt=abrupt)
    seen: list[str] = []

    def change() -> None:
        fake_cluster.server.wait_for_watch("inferenceservices")
        _set(fake_cluster, _not_ready)  # the first stream delivers this event, then breaks
        seen.append(fake_cluster.store.get(by_key(ISVC_KEY), NS, NAME)["metadata"]["resourceVersion"])
        fake_cluster.server.wait_for_watch("inferenceservices")  # the continued watch
        _set(fake_cluster, _ready)
    thread = _in_thread(change)
    assert condition_is(_wait_ready(kube), "Ready")
    thread.join(5)
    versions = [re.search(r"resourceVersion=(\d+)", r.path).group(1)
                for r in fake_cluster.server.requests(method="GET", contains="watch=true")]
    assert seen and seen[0] in versions[1:], f"the watch should continue from {seen}: {versions}"


def test_the_api_server_gone_mid_wait_is_an_environment_error(fake_cluster):
    _seed(fake_cluster)
    kube = _kube(fake_cluster)

    def vanish() -> None:
        fake_cluster.server.wait_for_watch("inferenceservices")
        fake_cluster.stop()
    _in_thread(vanish)
    started = time.monotonic()
    with pytest.raises(ClusterUnreachable) as caught:
        _wait_ready(kube, timeout=30)
    assert time.monotonic() - started < 15
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert "Traceback" not in caught.value.message and "\n" not in caught.value.message
