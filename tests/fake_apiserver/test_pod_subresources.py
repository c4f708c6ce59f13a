"""Pod and Service subresources over raw HTTP: log, proxy, portforward, and the /_fake port lookup."""

from __future__ import annotations

import json

import pytest

from tests.fakecluster.resources import SERVICES

from .helpers import Http, expect_status, seed_pod


@pytest.fixture
def http(fake_cluster):
    return Http(fake_cluster)


def test_pod_log_errors(http, fake_cluster):
    seed_pod(fake_cluster, "p", containers=("kserve-container", "queue-proxy"))
    base = "/api/v1/namespaces/kserve-test/pods/p/log"
    body = expect_status(http("GET", base + "?container=nope"), 400, "BadRequest")
    assert body["message"] == "container nope is not valid for pod p"
    expect_status(http("GET", base), 400, "BadRequest")
    expect_status(http("GET", "/api/v1/namespaces/kserve-test/pods/ghost/log"), 404, "NotFound")
    fake_cluster.node.append_log("kserve-test", "p", "queue-proxy", "x\ny\n")
    resp = http("GET", base + "?container=queue-proxy&tailLines=1")
    assert resp.status_code == 200 and resp.text == "y\n" and resp.headers["Content-Type"] == "text/plain"


def test_pod_proxy_relays_status_body_and_type(http, fake_cluster, backend):
    seed_pod(fake_cluster, "p")
    fake_cluster.node.register_proxy("kserve-test", "p", 8080, backend.url)
    resp = http("POST", "/api/v1/namespaces/kserve-test/pods/p:8080/proxy/v1/models/m:predict?x=1",
                {"instances": [[6.8, 2.8, 4.8, 1.4]]})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    assert resp.json()["path"] == "/v1/models/m:predict?x=1"
    assert json.loads(resp.json()["body"]) == {"instances": [[6.8, 2.8, 4.8, 1.4]]}
    missing = http("GET", "/api/v1/namespaces/kserve-test/pods/p:8080/proxy/missing")
    assert (missing.status_code, missing.text, missing.headers["Content-Type"]) == (404, "no such model\n",
                                                                                      "text/plain")
    body = expect_status(http("GET", "/api/v1/namespaces/kserve-test/pods/p:8081/proxy/"), 503, "ServiceUnavailable")
    assert body["message"] == "error trying to reach service: dial tcp 10.244.0.12:8081: connect: connection refused"


def test_service_proxy_picks_a_running_backend(http, fake_cluster, backend):
    seed_pod(fake_cluster, "p", labels={"app": "isvc.sklearn-iris-predictor"})
    fake_cluster.node.register_proxy("kserve-test", "p", 8080, backend.url)
    fake_cluster.store.create(SERVICES, "kserve-test", {
        "metadata": {"name": "sklearn-iris-predictor"},
        "spec": {"selector": {"app": "isvc.sklearn-iris-predictor"},
                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    resp = http("GET", "/api/v1/namespaces/kserve-test/services/sklearn-iris-predictor:80/proxy/v1/models/m")
    assert resp.status_code == 200 and resp.json()["path"] == "/v1/models/m"


def test_portforward_needs_an_upgrade(http, fake_cluster):
    seed_pod(fake_cluster, "p")
    body = expect_status(http("POST", "/api/v1/namespaces/kserve-test/pods/p/portforward"), 400, "BadRequest")
    assert body["message"] == "Upgrade request required"


def test_fake_port_lookup_endpoint(http, fake_cluster, backend):
    fake_cluster.node.register_proxy("kserve-test", "p", 8080, backend.url)
    assert http("GET", "/_fake/pods/kserve-test/p/ports/8080").json() == {"target": backend.url}
    expect_status(http("GET", "/_fake/pods/kserve-test/p/ports/9999"), 404, "NotFound")
