"""`kslab port-forward` as a user runs it: a subprocess that prints the URL, answers, and stops cleanly."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading

import pytest

from kslab.cli.main import run
from kslab.config.model import Settings
from kslab.providers.registry import make_provider
from kslab.session import Environment
from tests.fakecluster.controllers.lab import install_and_wait
from tests.portforward_support import (
    NAME,
    NS,
    backend,
    children,
    create_ready_isvc,
    gone,
    knative_lab,
    request,
    running_pod,
)
from tests.state_support import cli_state_dir as _state

HOST = "sklearn-iris.kserve-test.example.com"


def _curl_request(curl: str) -> tuple[str, dict[str, str], bytes]:
    """(url, headers, body) of the printed curl command, parsed the way a shell would."""
    words = shlex.split(curl)
    assert words[:2] == ["curl", "-sS"]
    headers, body, url = {}, b"", ""
    args = iter(words[2:])
    for word in args:
        if word == "-H":
            key, _, value = next(args).partition(": ")
            headers[key] = value
        elif word == "-d":
            body = next(args).encode()
        else:
            url = word
    return url, headers, body


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGINT, 0), (signal.SIGTERM, 143)])
def test_the_command_prints_a_working_curl_and_stops_without_leftovers(fake_tools, signum, exit_code):
    gateway = knative_lab(fake_tools.cluster)
    with backend() as gateway_pod:
        fake_tools.cluster.node.register_proxy("istio-system", gateway, 80, gateway_pod.url)
        proc = subprocess.Popen([sys.executable, "-c", "from kslab.cli.main import entry; entry()", "--kubeconfig",
                                 str(fake_tools.cluster.kubeconfig_path), "port-forward", NAME],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        timer = threading.Timer(20, proc.kill)  # a hung command fails the test instead of hanging it
        timer.start()
        kubectl = 0
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline().rstrip("\n") for _ in range(3)]
            url = lines[0].removeprefix("URL: ")
            assert lines[0].startswith("URL: http://127.0.0.1:"), lines
            assert lines[1] == f"Host header: {HOST}"
            target, headers, body = _curl_request(lines[2].removeprefix("curl: "))
            assert target == f"{url}/v1/models/{NAME}:predict"
            assert headers == {"Host": HOST, "Content-Type": "application/json"}
            assert json.loads(body) == {"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}
            seen = request(target, headers, body)
            assert (seen["host"], seen["path"], json.loads(seen["body"])) == (
                HOST, f"/v1/models/{NAME}:predict", json.loads(body))
            [kubectl] = children(proc.pid)
            proc.send_signal(signum)
            assert proc.wait(15) == exit_code
            assert gone(kubectl)
        finally:
            timer.cancel()
            proc.kill()
            proc.wait()
            if kubectl and not gone(kubectl):
                os.kill(kubectl, signal.SIGKILL)  # a failed run leaves nothing behind either
    assert proc.stderr is not None and proc.stderr.read().rstrip().endswith("port-forward stopped")


def test_the_command_forwards_to_a_pod_on_the_port_the_user_chose(fake_tools, capsys):
    cluster = fake_tools.cluster
    knative_lab(cluster)
    bad = run(["--kubeconfig", str(cluster.kubeconfig_path), "port-forward", NAME, "--pod", "nope", "--port", "1"])
    err = capsys.readouterr().err.splitlines()
    assert bad == 1 and err == [
        f"error: kubectl port-forward pod/nope:8080 in namespace {NS} failed: Error from server (NotFound): pods "
        '"nope" not found', f"hint: check the name and namespace: kubectl get pod -n {NS}"]
    assert fake_tools.calls("kubectl")[-1][-2:] == ["pod/nope", "1:8080"]


def test_a_forward_to_the_real_local_model_server_predicts_iris(fake_tools, tmp_path, monkeypatch, capsys):
    """The KServe model server (PyPI kserve, the data plane's local runtime) behind the predictor pod's port;
    with the local provider the command prints that server's own URL and a curl that works against it."""
    from kslab.local.deploy import deploy_local, undeploy_local

    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    cluster = fake_tools.cluster
    install_and_wait(cluster.store, cluster.controllers.settings, mode="Standard", knative=False, lean=True)
    create_ready_isvc(cluster)
    settings = Settings(provider="existing", kubeconfig=str(cluster.kubeconfig_path), namespace=NS)
    local = deploy_local(Settings(provider="local"), NAME, state=_state())
    try:
        cluster.node.register_proxy(NS, running_pod(cluster, NS, f"app=isvc.{NAME}-predictor"), 8080, local.url)
        with make_provider(settings, Environment.from_process()).endpoint(NAME) as endpoint:
            assert endpoint.base_url != local.url
            answer = request(f"{endpoint.base_url}/v1/models/{NAME}:predict", {"Content-Type": "application/json"},
                             json.dumps({"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}).encode())
        monkeypatch.setenv("KSLAB_PROVIDER", "local")
        capsys.readouterr()
        assert run(["port-forward", NAME]) == 0
        url, host, curl = capsys.readouterr().out.splitlines()
        assert (url, host) == (f"URL: {local.url}", "Host header: (none needed)")
        direct = request(*_curl_request(curl.removeprefix("curl: ")))
    finally:
        undeploy_local(Settings(provider="local"), NAME, state=_state())
    assert answer == direct == {"predictions": [1, 1]}
    assert not os.path.exists(tmp_path / "state" / "local" / f"{NAME}.json")


def test_smoke_over_a_port_forward_to_the_real_model_server(fake_tools, tmp_path, monkeypatch, capsys):
    """`kslab smoke` on a cluster: kubectl port-forward (the fake wrapper) to the predictor Service, whose pod
    port is the real KServe model server; every V1 and V2 check passes and no forward is left running."""
    from kslab.local.deploy import deploy_local, undeploy_local

    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)  # the run record goes to tmp_path/reports, not the checkout's
    cluster = fake_tools.cluster
    install_and_wait(cluster.store, cluster.controllers.settings, mode="Standard", knative=False, lean=True)
    create_ready_isvc(cluster)
    local = deploy_local(Settings(provider="local"), NAME, state=_state())
    try:
        cluster.node.register_proxy(NS, running_pod(cluster, NS, f"app=isvc.{NAME}-predictor"), 8080, local.url)
        code = run(["--kubeconfig", str(cluster.kubeconfig_path), "-n", NS, "-o", "json", "smoke", NAME,
                    "--provider", "existing"])
        captured = capsys.readouterr()
    finally:
        undeploy_local(Settings(provider="local"), NAME, state=_state())
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["failed"] == 0 and report["passed"] == len(report["checks"]) >= 10
    # -o json: the URL and the route apart (issue 14), the human "... via port-forward" only in the table
    assert report["route"] == "port-forward" and report["url"].startswith("http://127.0.0.1:")
    assert report["host"] is None and "endpoint" not in report
    names = [c["name"] for c in report["checks"]]
    assert any(n.startswith("v1 predict") for n in names) and any(n.startswith("v2 infer") for n in names)
    forwards = [a for a in fake_tools.calls("kubectl") if a and a[0] == "port-forward"]
    assert forwards and all("--address" in a and a[a.index("--address") + 1] == "127.0.0.1" for a in forwards)
    assert any(f"svc/{NAME}-predictor" in a for a in forwards)
