"""Watch semantics over raw HTTP: initial events, bookmarks, resourceVersion, 410, selectors, timeouts."""

from __future__ import annotations

import socket
import time

import pytest

from tests.fakecluster.resources import PODS

from .helpers import ISVC, ISVC_PATH, Http, events, mark_ready, namespace, seed_isvc, seed_pod, when_watching

WATCHLIST = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"


@pytest.fixture
def http(fake_cluster):
    return Http(fake_cluster)


def test_watchlist_sends_initial_events_then_bookmark_then_changes(http, fake_cluster):
    seed_isvc(fake_cluster)
    seed_isvc(fake_cluster, "other")
    when_watching(fake_cluster, "inferenceservices", lambda: mark_ready(fake_cluster))
    resp = http.watch(f"{ISVC_PATH}?{WATCHLIST}&fieldSelector=metadata.name%3Dsklearn-iris&timeoutSeconds=5")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json" and resp.headers["Transfer-Encoding"] == "chunked"
    added, bookmark, modified = events(resp, limit=3)
    resp.close()
    assert (added["type"], added["object"]["metadata"]["name"], added["object"]["kind"]) == \
        ("ADDED", "sklearn-iris", "InferenceService")
    assert bookmark == {"type": "BOOKMARK", "object": {
        "kind": "InferenceService", "apiVersion": "serving.kserve.io/v1beta1",
        "metadata": {"resourceVersion": bookmark["object"]["metadata"]["resourceVersion"],
                     "annotations": {"k8s.io/initial-events-end": "true"}}}}
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= int(added["object"]["metadata"]["resourceVersion"])
    assert modified["type"] == "MODIFIED" and modified["object"]["status"]["conditions"][0]["status"] == "True"


def test_watchlist_parameter_validation(http, fake_cluster):
    namespace(fake_cluster)
    resp = http("GET", f"{ISVC_PATH}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true")
    assert resp.status_code == 422 and "resourceVersionMatch to NotOlderThan" in resp.json()["message"]
    resp = http("GET", f"{ISVC_PATH}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")
    assert resp.status_code == 422 and "allowWatchBookmarks" in resp.json()["message"]
    resp = http("GET", f"{ISVC_PATH}?watch=true&resourceVersionMatch=NotOlderThan")
    assert resp.status_code == 422


@pytest.mark.parametrize("rv", ["", "0"])
def test_watch_without_resource_version_starts_with_synthetic_added(http, fake_cluster, rv):
    seed_isvc(fake_cluster)
    when_watching(fake_cluster, "inferenceservices", lambda: seed_isvc(fake_cluster, "sentinel"))
    resp = http.watch(f"{ISVC_PATH}?watch=true&resourceVersion={rv}&timeoutSeconds=5")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events(resp, limit=2)] == \
        [("ADDED", "sklearn-iris"), ("ADDED", "sentinel")]


def test_watch_from_resource_version_sends_only_later_events(http, fake_cluster):
    first = seed_isvc(fake_cluster)
    seed_isvc(fake_cluster, "second")
    fake_cluster.store.delete(ISVC, "kserve-test", "sklearn-iris")
    when_watching(fake_cluster, "inferenceservices", lambda: seed_isvc(fake_cluster, "sentinel"))
    resp = http.watch(f"{ISVC_PATH}?watch=true&resourceVersion={first['metadata']['resourceVersion']}"
                      "&timeoutSeconds=5")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events(resp, limit=3)] == \
        [("ADDED", "second"), ("DELETED", "sklearn-iris"), ("ADDED", "sentinel")]


def test_watch_too_old_resource_version_is_an_error_event(http, fake_cluster):
    first = seed_isvc(fake_cluster)
    seed_isvc(fake_cluster, "second")
    fake_cluster.store.compact()
    resp = http.watch(f"{ISVC_PATH}?watch=true&resourceVersion={first['metadata']['resourceVersion']}")
    assert resp.status_code == 200  # like the real apiserver: the 410 travels inside the stream
    (error,) = events(resp)
    assert error["type"] == "ERROR"
    status = error["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {first['metadata']['resourceVersion']} (")


def test_watch_selector_transitions(http, fake_cluster):
    seed_pod(fake_cluster, "a", labels={"app": "sklearn"})
    seed_pod(fake_cluster, "b", labels={"app": "other"})
    store = fake_cluster.store

    def relabel(name: str, app: str) -> None:
        store.patch(PODS, "kserve-test", name, "application/merge-patch+json", {"metadata": {"labels": {"app": app}}})

    def changes() -> None:
        relabel("b", "sklearn")  # enters the selection
        relabel("a", "gone")  # leaves it
        relabel("a", "still-gone")  # invisible
        store.delete(PODS, "kserve-test", "a")  # was not visible: no event
        store.delete(PODS, "kserve-test", "b")

    when_watching(fake_cluster, "pods", changes)
    resp = http.watch("/api/v1/namespaces/kserve-test/pods?watch=true&labelSelector=app%3Dsklearn&timeoutSeconds=2")
    got = [(e["type"], e["object"]["metadata"]["name"]) for e in events(resp, limit=4)]
    resp.close()
    assert got == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a"), ("DELETED", "b")]


def test_watch_from_resource_version_knows_prior_selection(http, fake_cluster):
    pod = seed_pod(fake_cluster, "a", labels={"app": "other"})
    fake_cluster.store.patch(PODS, "kserve-test", "a", "application/merge-patch+json",
                             {"metadata": {"labels": {"app": "sklearn"}}})
    fake_cluster.store.patch(PODS, "kserve-test", "a", "application/merge-patch+json",
                             {"metadata": {"labels": {"app": "gone"}}})
    when_watching(fake_cluster, "pods", lambda: seed_pod(fake_cluster, "sentinel", labels={"app": "sklearn"}))
    resp = http.watch(f"/api/v1/namespaces/kserve-test/pods?watch=true&labelSelector=app%3Dsklearn"
                      f"&resourceVersion={pod['metadata']['resourceVersion']}&timeoutSeconds=5")
    # at that resourceVersion the pod did not match: it enters (ADDED), then leaves (DELETED)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events(resp, limit=3)] == \
        [("ADDED", "a"), ("DELETED", "a"), ("ADDED", "sentinel")]


def test_watch_ends_at_timeout_seconds(http, fake_cluster):
    namespace(fake_cluster)
    start = time.monotonic()
    resp = http.watch(f"{ISVC_PATH}?watch=true&timeoutSeconds=1")
    assert events(resp) == []
    assert 0.9 <= time.monotonic() - start < 3


def test_watch_client_disconnect_is_noticed(fake_cluster):
    namespace(fake_cluster)
    server = fake_cluster.server
    sock = socket.create_connection(server.address, timeout=5)
    sock.sendall(f"GET {ISVC_PATH}?watch=true&timeoutSeconds=60 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    assert server.open_connections == 1
    server.wait_for_watch("inferenceservices", timeout=3)  # the signal tests use instead of sleeping
    assert (server.open_watches("inferenceservices"), server.open_watches("pods"), server.open_watches()) == (1, 0, 1)
    sock.close()  # hang up while the stream is idle
    deadline = time.monotonic() + 3
    while server.open_connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.open_connections == 0  # the handler noticed within its poll interval and ended the stream
    assert server.open_watches() == 0
    with pytest.raises(AssertionError, match="no 1 open watch"):
        server.wait_for_watch("inferenceservices", timeout=0.1)


def test_legacy_watch_prefix_and_cluster_scoped_watch(http, fake_cluster):
    when_watching(fake_cluster, "namespaces", lambda: namespace(fake_cluster, "late"))
    resp = http.watch("/api/v1/watch/namespaces?resourceVersion="
                      f"{fake_cluster.store.resource_version}&timeoutSeconds=5")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events(resp, limit=1)] == [("ADDED", "late")]


def test_table_watch_events(http, fake_cluster):
    seed_isvc(fake_cluster)
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    resp = http.watch(f"{ISVC_PATH}?watch=true&timeoutSeconds=5", headers={"Accept": accept})
    (event,) = events(resp, limit=1)
    assert event["type"] == "ADDED" and event["object"]["kind"] == "Table"
    assert event["object"]["rows"][0]["cells"][0] == "sklearn-iris"
