"""Seeding helpers and HTTP shortcuts shared by the fake API server tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.resources import (
    NAMESPACES,
    PODS,
    lookup,
)

ISVC = lookup("serving.kserve.io", "v1beta1", "inferenceservices")
ISVC_PATH = "/apis/serving.kserve.io/v1beta1/namespaces/kserve-test/inferenceservices"

ISVC_YAML = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iris
  namespace: kserve-test
spec:
  predictor:
    model:
      modelFormat:
        name: sklearn
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
"""


def isvc_body(name: str = "sklearn-iris", storage: str = "gs://kfserving-examples/models/sklearn/1.0/model"
              ) -> dict[str, Any]:
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": name, "namespace": "kserve-test"},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": storage}}}}


def namespace(cluster: FakeCluster, name: str = "kserve-test") -> None:
    cluster.store.create(NAMESPACES, None, {"metadata": {"name": name}})


def seed_isvc(cluster: FakeCluster, name: str = "sklearn-iris") -> dict[str, Any]:
    if cluster.store.find(NAMESPACES, None, "kserve-test") is None:
        namespace(cluster)
    return cluster.store.create(ISVC, "kserve-test", isvc_body(name))


def seed_pod(cluster: FakeCluster, name: str = "sklearn-iris-predictor-00001-deployment-6d9c8-abcde",
             ns: str = "kserve-test", containers: tuple[str, ...] = ("kserve-container",),
             labels: dict[str, str] | None = None, phase: str = "Running") -> dict[str, Any]:
    if cluster.store.find(NAMESPACES, None, ns) is None:
        namespace(cluster, ns)
    spec = {"containers": [{"name": c, "image": "kserve/sklearnserver:v0.15.2",
                            "ports": [{"containerPort": 8080, "name": "http"}] if i == 0 else []}
                           for i, c in enumerate(containers)]}
    return cluster.store.create(PODS, ns, {"metadata": {"name": name, "labels": labels or {}}, "spec": spec,
                                           "status": {"phase": phase, "podIP": "10.244.0.12"}}, keep_status=True)


def mark_ready(cluster: FakeCluster, name: str = "sklearn-iris", ready: str = "True") -> None:
    """What the KServe controller would write: Ready condition and observedGeneration."""
    def change(obj: dict[str, Any]) -> None:
        obj["status"] = {"observedGeneration": obj["metadata"]["generation"], "url": f"http://{name}.kserve-test.example.com",
                         "conditions": [{"type": "Ready", "status": ready}]}
    cluster.store.mutate(ISVC, "kserve-test", name, change, subresource="status")


def later(delay: float, action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` after ``delay`` seconds on a daemon thread."""
    def run() -> None:
        time.sleep(delay)
        action()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def when_watching(cluster: FakeCluster, plural: str, action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` on a daemon thread as soon as the fake API server serves a watch on ``plural``: the change
    then reaches the client as a live event, however slow the machine (a sleep would only hope so)."""
    def run() -> None:
        cluster.server.wait_for_watch(plural)
        action()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def expect_status(resp, code: int, reason: str) -> dict:
    assert resp.status_code == code, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert (body["kind"], body["apiVersion"], body["status"], body["code"], body["reason"]) == \
        ("Status", "v1", "Failure", code, reason)
    return body


class Http:
    """requests against the fake server, JSON by default."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.base = cluster.url
        self.session = requests.Session()

    def __call__(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                 headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        data = None if body is None else (body if isinstance(body, (str, bytes)) else json.dumps(body))
        all_headers = {"Content-Type": content_type, **(headers or {})} if data is not None else dict(headers or {})
        return self.session.request(method, self.base + path, data=data, headers=all_headers, timeout=10, **kwargs)

    def watch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, stream=True, timeout=10, **kwargs)


def events(resp: requests.Response, limit: int | None = None) -> list[dict[str, Any]]:
    """Read watch events until the stream ends (or ``limit`` events arrived)."""
    out = []
    for line in resp.iter_lines():
        if line:
            out.append(json.loads(line))
            if limit is not None and len(out) >= limit:
                break
    return out
