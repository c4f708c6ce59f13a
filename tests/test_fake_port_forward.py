"""The kubectl wrapper's port-forward: kubectl's resolution, output lines, relaying, errors and teardown."""

from __future__ import annotations

import http.server
import os
import queue
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.fakecluster.resources import by_key
from tests.fakecluster.tools import helm

ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"pod saw {self.path} for {self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pod_server() -> Iterator[str]:
    """A local HTTP server standing in for the gateway pod's port 80."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway_pod(fake_tools, capsys) -> str:
    """istio-ingressgateway installed with the fake helm; returns its Running, Ready pod's name."""
    assert helm.main(["repo", "add", "istio", ISTIO_REPO]) == 0
    assert helm.main(["upgrade", "-i", "istio-ingressgateway", "istio/gateway", "-n", "istio-system",
                      "--create-namespace"]) == 0
    capsys.readouterr()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pods, _ = fake_tools.cluster.store.list(by_key("/pods"), "istio-system",
                                                label_selector="app=istio-ingressgateway")
        for pod in pods:
            status = pod.get("status") or {}
            if status.get("phase") == "Running" and any(
                    c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or []):
                return pod["metadata"]["name"]
        time.sleep(0.05)
    pytest.fail("the simulated controllers did not run an istio-ingressgateway pod")


class Forward:
    """A running `kubectl port-forward` (through the PATH shim) with its output lines in queues."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(["kubectl", "port-forward", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out.put(line.rstrip("\n"))

    def line(self, timeout: float = 10) -> str:
        return self.out.get(timeout=timeout)

    def finish(self, timeout: float = 10) -> tuple[int, str]:
        self.proc.wait(timeout)
        assert self.proc.stderr is not None
        return self.proc.returncode, self.proc.stderr.read()


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, IndexError):
                continue
    return kids


def _port_free(port: int) -> bool:
    """Bindable again (with SO_REUSEADDR, as Go listeners and any server use; TIME_WAIT does not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_port_forward_to_the_gateway_service_relays_http_and_cleans_up(fake_tools, gateway_pod, pod_server):
    fake_tools.cluster.node.register_proxy("istio-system", gateway_pod, 80, pod_server)
    forward = Forward("-n", "istio-system", "svc/istio-ingressgateway", ":80")
    first = forward.line()
    match = re.fullmatch(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80", first)
    assert match, first
    port = int(match.group(1))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/sklearn-iris",
                                     headers={"Host": "sklearn-iris.kserve-test.example.com"})
    with _NO_PROXY.open(request, timeout=10) as resp:
        assert resp.read().decode() == "pod saw /v1/models/sklearn-iris for sklearn-iris.kserve-test.example.com"
    rest = [forward.line()]
    while rest[-1] != f"Handling connection for {port}":
        rest.append(forward.line())  # kubectl may print a second "Forwarding from [::1]:..." line first
    assert rest[:-1] in ([], [f"Forwarding from [::1]:{port} -> 80"])
    with open(f"/proc/{forward.proc.pid}/cmdline", "rb") as fh:
        assert b"tests.fakecluster.tools.kubectl" in fh.read(), "the shim must exec, not fork"
    assert _children(forward.proc.pid) == []
    forward.proc.terminate()
    code, _ = forward.finish()
    assert code == -15
    assert _port_free(port)
    with pytest.raises(ProcessLookupError):
        os.kill(forward.proc.pid, 0)
    assert fake_tools.calls("kubectl")[-1] == ["port-forward", "-n", "istio-system", "svc/istio-ingressgateway",
                                               ":80"]


def test_unreachable_pod_port_loses_the_connection_like_kubectl(fake_tools, gateway_pod):
    forward = Forward("svc/istio-ingressgateway", "--namespace=istio-system", "--address", "127.0.0.1", ":https")
    match = re.fullmatch(r"Forwarding from 127\.0\.0\.1:(\d+) -> 443", forward.line())
    assert match
    with socket.create_connection(("127.0.0.1", int(match.group(1))), timeout=5) as conn:
        conn.settimeout(5)
        assert conn.recv(10) == b""
    code, err = forward.finish()
    assert code == 1
    assert "an error occurred forwarding" in err and err.endswith("error: lost connection to pod\n")


def test_deleting_the_pod_ends_the_port_forward(fake_tools, gateway_pod, pod_server):
    fake_tools.cluster.node.register_proxy("istio-system", gateway_pod, 80, pod_server)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    forward = Forward("-n", "istio-system", "pod/" + gateway_pod, f"{port}:80", "--address", "127.0.0.1")
    assert forward.line() == f"Forwarding from 127.0.0.1:{port} -> 80"
    fake_tools.cluster.store.delete(by_key("/pods"), "istio-system", gateway_pod)
    code, err = forward.finish()
    assert (code, err) == (1, "error: lost connection to pod\n")


def test_port_forward_errors_match_kubectl(fake_tools, gateway_pod):
    missing = subprocess.run(["kubectl", "port-forward", "-n", "istio-system", "svc/nope", "8080:80"],
                             capture_output=True, text=True, timeout=30)
    assert (missing.returncode, missing.stderr) == (1, 'Error from server (NotFound): services "nope" not found\n')
    no_ns = subprocess.run(["kubectl", "port-forward", "-n", "ghost", "pod/x", "80"], capture_output=True, text=True)
    assert (no_ns.returncode, no_ns.stderr) == (1, 'Error from server (NotFound): namespaces "ghost" not found\n')
    bad_port = subprocess.run(["kubectl", "port-forward", "-n", "istio-system", "svc/istio-ingressgateway", "81"],
                              capture_output=True, text=True)
    assert bad_port.stderr == "error: Service istio-ingressgateway does not have a service port 81\n"

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        clash = subprocess.run(["kubectl", "port-forward", "-n", "istio-system", "--address", "127.0.0.1",
                                "svc/istio-ingressgateway", f"{busy}:80"], capture_output=True, text=True)
    assert clash.returncode == 1
    assert "bind: address already in use" in clash.stderr
    assert clash.stderr.endswith(f"error: unable to listen on any of the requested ports: [{{{busy} 80}}]\n")


def test_port_forward_refuses_a_pending_pod(fake_tools, kubectl):
    kubectl("apply", "--server-side", "--validate=false", "-f", "-", input=(
        "apiVersion: v1\nkind: Service\nmetadata: {name: big, namespace: default}\n"
        "spec: {selector: {app: big}, ports: [{port: 80, targetPort: 8080}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: big, namespace: default, labels: {app: big}}\n"
        "spec: {containers: [{name: c, image: x, resources: {requests: {cpu: '500'}}}]}\n"))
    result = subprocess.run(["kubectl", "port-forward", "svc/big", "8080:80"], capture_output=True, text=True,
                            timeout=30)
    assert (result.returncode, result.stderr) == (
        1, "error: unable to forward port because pod is not running. Current status=Pending\n")
