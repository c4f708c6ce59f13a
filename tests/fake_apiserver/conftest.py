"""Fixtures for the fake API server's own tests: the server alone, without simulated controllers.

These tests check that the fake behaves like a real kube-apiserver, so every state change (Ready
conditions, finalizer removal, ...) is made by the test itself: ``fake_cluster_controllers`` is False
here; the root ``kubectl`` fixture then runs against this cluster.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from kubernetes import client, config

from tests.fakecluster.cluster import FakeCluster


@pytest.fixture
def fake_cluster_controllers() -> bool:
    return False


@pytest.fixture
def k8s(fake_cluster: FakeCluster) -> Iterator[SimpleNamespace]:
    """The official kubernetes client configured from the fake cluster's kubeconfig file."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(fake_cluster.kubeconfig_path),  # type: ignore[attr-defined]
                            client_configuration=configuration)
    api_client = client.ApiClient(configuration)
    yield SimpleNamespace(api_client=api_client, configuration=configuration, core=client.CoreV1Api(api_client),
                          apps=client.AppsV1Api(api_client), custom=client.CustomObjectsApi(api_client))
    api_client.close()


class _Backend(http.server.BaseHTTPRequestHandler):
    """A stand-in for a pod's HTTP port: echoes what it received as JSON; /missing answers 404."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.server.seen.append((self.command, self.path, body))  # type: ignore[attr-defined]
        if self.path.startswith("/missing"):
            data, status, ctype = b"no such model\n", 404, "text/plain"
        else:
            data = json.dumps({"method": self.command, "path": self.path, "body": body}).encode()
            status, ctype = 200, "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[SimpleNamespace]:
    """A local HTTP server to register as a pod port proxy target."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}", seen=server.seen)  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()
