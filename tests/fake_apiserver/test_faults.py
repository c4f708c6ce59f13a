"""Fault injection: scripted errors, seeded error rates, Retry-After, latency, dropped watches."""

from __future__ import annotations

import time

import pytest
import requests
import urllib3
from kubernetes import client, watch

from tests.fakecluster.faults import FaultInjector

from .helpers import ISVC, ISVC_PATH, Http, events, namespace, seed_isvc, seed_pod, when_watching

KSERVE = ("serving.kserve.io", "v1beta1", "kserve-test", "inferenceservices")


@pytest.fixture
def http(fake_cluster):
    return Http(fake_cluster)


def test_500_then_success_with_a_retrying_client(fake_cluster, k8s):
    seed_pod(fake_cluster, "p")
    rule = fake_cluster.faults.fail(r"/pods/p$", [500, 200], method="GET")
    with pytest.raises(client.ApiException) as failed:
        k8s.core.read_namespaced_pod("p", "kserve-test")
    assert failed.value.status == 500
    assert "InternalError" in failed.value.body
    assert k8s.core.read_namespaced_pod("p", "kserve-test").metadata.name == "p"
    assert rule.matched == 2 and rule.failed == 1

    fake_cluster.faults.fail(r"/pods/p$", [500, 500], method="GET")
    k8s.configuration.retries = urllib3.Retry(total=3, status_forcelist=[500], backoff_factor=0,
                                              allowed_methods=None, raise_on_status=False)
    with client.ApiClient(k8s.configuration) as api_client:
        before = len(fake_cluster.server.requests("GET", "/pods/p"))
        assert client.CoreV1Api(api_client).read_namespaced_pod("p", "kserve-test").metadata.name == "p"
    assert len(fake_cluster.server.requests("GET", "/pods/p")) - before == 3  # two 500s, then served


def test_429_carries_retry_after_and_status_body(http, fake_cluster):
    rule = fake_cluster.faults.fail(r"^/api/v1/namespaces$", [429], retry_after=2)
    resp = http("GET", "/api/v1/namespaces")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "2"
    body = resp.json()
    assert (body["kind"], body["reason"], body["code"], body["details"]["retryAfterSeconds"]) == \
        ("Status", "TooManyRequests", 429, 2)
    assert http("GET", "/api/v1/namespaces").status_code == 200
    assert fake_cluster.faults.count(rule) == 2


@pytest.mark.kubectl
def test_kubectl_retries_after_429(fake_cluster, kubectl):
    seed_pod(fake_cluster, "p")
    kubectl("get", "ns")  # warm the discovery cache so the rule only sees the pod GETs
    rule = fake_cluster.faults.fail(r"/pods/p$", [429], method="GET", retry_after=1)
    start = time.monotonic()
    out = kubectl("get", "pod", "p", "-n", "kserve-test", "-o", "name").stdout
    assert out.strip() == "pod/p"
    assert rule.matched == 2 and rule.failed == 1
    assert time.monotonic() - start >= 0.95  # client-go waited the Retry-After second before retrying


def test_fail_rate_is_reproducible():
    def pattern(seed: int) -> list[bool]:
        faults = FaultInjector()
        faults.fail_rate("/api", 0.3, seed=seed)
        return [faults.decide("GET", "/api/v1/pods").error is not None for _ in range(200)]

    first = pattern(7)
    assert first == pattern(7)
    assert first != pattern(8)
    assert 30 <= sum(first) <= 90


def test_fail_rate_over_http(http, fake_cluster):
    rule = fake_cluster.faults.fail_rate(r"^/version$", 0.5, status=503, seed=1)
    codes = [http("GET", "/version").status_code for _ in range(20)]
    assert set(codes) == {200, 503}
    assert codes.count(503) == rule.failed and rule.matched == 20


def test_latency_applies_only_to_matching_requests(http, fake_cluster):
    fake_cluster.faults.delay(r"/inferenceservices", 0.4, method="GET")
    namespace(fake_cluster)
    start = time.monotonic()
    assert http("GET", ISVC_PATH).status_code == 200
    assert time.monotonic() - start >= 0.4
    start = time.monotonic()
    assert http("GET", "/api/v1/namespaces").status_code == 200
    assert time.monotonic() - start < 0.4


def test_clear_removes_all_rules(http, fake_cluster):
    fake_cluster.faults.fail("/version", [500, 500, 500])
    assert http("GET", "/version").status_code == 500
    fake_cluster.faults.clear()
    assert http("GET", "/version").status_code == 200


def test_watch_dropped_after_n_events(http, fake_cluster):
    for name in ("a", "b", "c"):
        seed_isvc(fake_cluster, name)
    fake_cluster.faults.drop_watch(r"/inferenceservices$", 2)
    start = time.monotonic()
    resp = http.watch(f"{ISVC_PATH}?watch=true&timeoutSeconds=30")
    assert [e["object"]["metadata"]["name"] for e in events(resp)] == ["a", "b"]
    assert time.monotonic() - start < 5  # the stream ended early instead of running to its timeout
    # list requests on the same path are not affected
    assert len(http("GET", ISVC_PATH).json()["items"]) == 3


def test_abrupt_watch_drop_breaks_the_stream(http, fake_cluster):
    seed_isvc(fake_cluster, "a")
    seed_isvc(fake_cluster, "b")
    fake_cluster.faults.drop_watch(r"/inferenceservices$", 1, abrupt=True)
    resp = http.watch(f"{ISVC_PATH}?watch=true&timeoutSeconds=30")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        events(resp)


def test_python_watch_resumes_after_drops(fake_cluster, k8s):
    seed_isvc(fake_cluster, "a")
    rule = fake_cluster.faults.drop_watch(r"/inferenceservices$", 2)

    def churn() -> None:
        for name in ("b", "c", "d"):
            seed_isvc(fake_cluster, name)
        fake_cluster.store.delete(ISVC, "kserve-test", "a")
    when_watching(fake_cluster, "inferenceservices", churn)
    seen = []
    stream = watch.Watch()
    for event in stream.stream(k8s.custom.list_namespaced_custom_object, *KSERVE, _request_timeout=10):
        seen.append((event["type"], event["object"]["metadata"]["name"]))
        if event["type"] == "DELETED":
            stream.stop()
    # every event exactly once although the server cut the stream every 2 events
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c"), ("ADDED", "d"), ("DELETED", "a")]
    assert rule.matched >= 3
