"""An interrupted local deploy stops the server it started and leaves no state; ``kslab lab`` stops only its own.

Ctrl-C and SIGTERM reach kslab as KeyboardInterrupt (kslab.util.signals): wherever it lands after the server
was spawned (waiting for its port, waiting for it to be ready), that server goes and no record claims it runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.config.model import Settings
from kslab.exitcodes import ExitCode
from kslab.local import runtime
from kslab.local.deploy import deploy_local, undeploy_local
from tests.dataplane.conftest import MODEL
from tests.leak_guard import leftover_pids, pid_gone

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(provider="local")


def _kill_leftovers(state: Path) -> list[int]:
    """The model servers still running under ``state`` (ended here, so one failing test leaks nothing)."""
    found = leftover_pids(str(state), children=False)
    for pid in found:
        os.kill(pid, signal.SIGKILL)
    return found


def test_ctrl_c_while_waiting_for_the_port_stops_the_server_it_started(tmp_path, monkeypatch):
    state = tmp_path / "state"
    real_sleep = time.sleep
    interrupted: list[float] = []

    def ctrl_c_once(seconds: float) -> None:  # the first wait after the spawn is where Ctrl-C lands
        if not interrupted:
            interrupted.append(seconds)
            raise KeyboardInterrupt
        real_sleep(seconds)

    from kslab.modelbuild.builder import ensure_build

    ensure_build(state, MODEL, "v1")
    monkeypatch.setattr(runtime.time, "sleep", ctrl_c_once)
    with pytest.raises(KeyboardInterrupt):
        deploy_local(SETTINGS, MODEL, "v1", state=state)
    monkeypatch.setattr(runtime.time, "sleep", real_sleep)
    assert interrupted, "the deploy never waited"
    assert _kill_leftovers(state) == [], "the interrupted deploy left its model server running"
    assert not (runtime.local_dir(state) / f"{MODEL}.json").exists()
    assert runtime.status(state, MODEL) is None


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130),
                                           (signal.SIGTERM, 143)])  # 128 + SIGTERM
def test_kslab_deploy_interrupted_while_waiting_ready_stops_its_server(tmp_path, sig, code):
    """A real ``kslab deploy --provider local`` signalled once its server is up but not yet ready."""
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSLAB_")}
    env |= {"KSLAB_STATE_DIR": str(state), "PYTHONPATH": str(ROOT)}
    deploy = subprocess.Popen([sys.executable, "-c", "from kslab.cli.main import entry; entry()", "deploy", MODEL,
                               "--provider", "local"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    record = runtime.local_dir(state) / f"{MODEL}.json"
    deadline = time.monotonic() + 120
    server = None
    try:
        while server is None and time.monotonic() < deadline and deploy.poll() is None:
            try:
                data = json.loads(record.read_text())
                server = data["pid"] if data["port"] else None  # bound its port: now waiting to be ready
            except (OSError, ValueError, KeyError):
                time.sleep(0.02)
        assert server is not None, "the deploy never started its server"
        deploy.send_signal(sig)
        _, err = deploy.communicate(timeout=60)
        assert deploy.returncode == code, err
        assert "interrupted" in err and "Traceback" not in err
        assert pid_gone(server), "the interrupted deploy left its model server running"
        assert not record.exists()
    finally:
        if deploy.poll() is None:
            deploy.kill()
            deploy.wait(timeout=10)
        leftovers = _kill_leftovers(state)
    assert leftovers == []


def _lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: Path) -> int:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_STATE_DIR", str(state))
    monkeypatch.setenv("KSLAB_LAB__LOAD_PROFILE", "2@1s")
    monkeypatch.setenv("KSLAB_LAB__LOAD_WARMUP", "0s")
    return run(["-o", "json", "lab", "--provider", "local"])


def test_lab_leaves_a_server_the_user_deployed_running(tmp_path, monkeypatch, capsys):
    state = tmp_path / "state"
    user = deploy_local(SETTINGS, MODEL, "v1", state=state)  # the user's earlier `kslab deploy`
    try:
        code = _lab(tmp_path, monkeypatch, state)
        captured = capsys.readouterr()
        assert code == ExitCode.OK, captured.err
        assert json.loads(captured.out)["run_record"]
        assert not pid_gone(user.pid), "kslab lab stopped the server the user had deployed"
        assert runtime.status(state, MODEL).pid == user.pid
    finally:
        undeploy_local(SETTINGS, MODEL, state=state)
    assert pid_gone(user.pid) and _kill_leftovers(state) == []


def test_lab_refuses_to_replace_a_server_it_did_not_start(tmp_path, monkeypatch, capsys):
    """The user serves v2; the lab wants v1: it says so and exits 2 instead of stopping the user's server."""
    state = tmp_path / "state"
    user = deploy_local(SETTINGS, MODEL, "v2", state=state)
    try:
        code = _lab(tmp_path, monkeypatch, state)
        captured = capsys.readouterr()
        assert code == ExitCode.USAGE, captured.err
        assert f"a local runtime for {MODEL} that this command did not start is running (pid {user.pid}" \
               in captured.err
        assert f"kslab undeploy {MODEL} --provider local" in captured.err
        assert runtime.status(state, MODEL).pid == user.pid
    finally:
        undeploy_local(SETTINGS, MODEL, state=state)
    assert pid_gone(user.pid) and _kill_leftovers(state) == []
