"""Shared pieces of the port-forward tests: a recording HTTP backend, the Istio gateway, Ready ISVCs."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import deployment, ensure_namespace, install_and_wait, sklearn_iris, wait_for
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import DEPLOYMENTS, ISVCS, PODS, SERVICES

NS, NAME = "kserve-test", "sklearn-iris"
GATEWAY_LABELS = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Backend:
    """A real HTTP server on 127.0.0.1 standing in for a pod port; it records what reached it."""

    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def backend() -> Iterator[Backend]:
    record = Backend("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            seen = {"method": self.command, "path": self.path, "host": self.headers["Host"], "body": body}
            record.seen.append(seen)
            data = json.dumps(seen).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            """A client that went away mid-answer (a killed port-forward) is what some tests do on purpose; the
            standard server would print its traceback into the test's captured stderr, where the fault battery
            looks for tracebacks kslab must never print."""
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    record.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()


def request(url: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> dict[str, Any]:
    """What the backend saw, as its JSON answer."""
    req = urllib.request.Request(url, data=body, headers=headers or {})
    with NO_PROXY.open(req, timeout=10) as resp:
        return json.loads(resp.read())


def running_pod(cluster: FakeCluster, namespace: str, selector: str) -> str:
    """The name of a Running, Ready pod matching ``selector`` (waits for the simulated controllers)."""
    def check() -> str | None:
        for pod in cluster.store.list(PODS, namespace, label_selector=selector)[0]:
            status = pod.get("status") or {}
            if status.get("phase") == "Running" and (find_condition(pod, "Ready") or {}).get("status") == "True":
                return str(pod["metadata"]["name"])
        return None
    return wait_for(check, 10, f"a Running pod {selector} in {namespace}")


def seed_gateway(cluster: FakeCluster) -> str:
    """svc/istio-ingressgateway (port 80 -> targetPort 80, as the Istio gateway chart renders it) and its
    Deployment; returns the gateway pod's name."""
    ensure_namespace(cluster.store, "istio-system")
    for rt, body in ((DEPLOYMENTS, deployment("istio-ingressgateway", GATEWAY_LABELS, "docker.io/istio/proxyv2:1.27.1",
                                              "istio-proxy")),
                     (SERVICES, {"metadata": {"name": "istio-ingressgateway", "labels": dict(GATEWAY_LABELS)},
                                 "spec": {"type": "LoadBalancer", "selector": dict(GATEWAY_LABELS), "ports": [
                                     {"name": "status-port", "port": 15021, "targetPort": 15021},
                                     {"name": "http2", "port": 80, "targetPort": 80},
                                     {"name": "https", "port": 443, "targetPort": 443}]}})):
        try:
            cluster.store.create(rt, "istio-system", body)
        except ApiError as err:
            if err.code != 409:
                raise
    return running_pod(cluster, "istio-system", "app=istio-ingressgateway")


def create_ready_isvc(cluster: FakeCluster, **predictor: Any) -> dict[str, Any]:
    cluster.store.create(ISVCS, NS, sklearn_iris(**predictor))

    def check() -> dict[str, Any] | None:
        isvc = cluster.store.find(ISVCS, NS, NAME)
        return isvc if (find_condition(isvc or {}, "Ready") or {}).get("status") == "True" else None
    return wait_for(check, 10, f"InferenceService {NAME} Ready")


def processes() -> Iterator[tuple[int, str, int, int]]:
    """(pid, state, ppid, process group) of every process in /proc."""
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                state, ppid, pgrp = fh.read().rpartition(")")[2].split()[:3]
        except (OSError, ValueError):
            continue
        yield int(entry), state, int(ppid), int(pgrp)


def children(pid: int) -> list[int]:
    return [child for child, state, ppid, _ in processes() if ppid == pid and state not in "ZX"]


def survivors(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of every process that is ``pid`` or in its process group and still runs (zombies excluded)."""
    return [(p, state) for p, state, _, pgrp in processes() if pid in (p, pgrp) and state not in "ZX"]


def knative_lab(cluster: FakeCluster) -> str:
    """Knative-mode stack + the Istio gateway + a Ready sklearn-iris; returns the gateway pod's name."""
    install_and_wait(cluster.store, cluster.controllers.settings, lean=True)
    gateway = seed_gateway(cluster)
    create_ready_isvc(cluster)
    return gateway


def gone(pid: int) -> bool:
    return survivors(pid) == []
