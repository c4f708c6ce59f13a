"""A runtime record names a server by pid + start time + argv (its state dir included), never by pid alone.

A record that names another state dir's server, a pid reused by a later process, or pid 0, 1, -1 or a JSON true
(kill(2)/killpg(3) read them as "my own process group" or "every process") must never lead to a signal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kslab.local import process, runtime
from kslab.modelbuild.builder import build_model
from tests.dataplane.conftest import MODEL
from tests.leak_guard import pid_gone


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(MODEL, "v1", tmp_path_factory.mktemp("models")).model_dir


@pytest.fixture
def server_a(tmp_path: Path, model_dir: Path) -> Iterator[tuple[Path, runtime.LocalDeployment]]:
    """A real model server started under state dir A (no need to wait for it to be ready)."""
    state_a = tmp_path / "state-a"
    deployment = runtime.start(state_a, MODEL, model_dir)
    try:
        yield state_a, deployment
    finally:
        if process.alive(deployment.pid):
            process.terminate_group(deployment.pid, 5)
        assert pid_gone(deployment.pid)


def _record(state: Path) -> dict:
    return json.loads((runtime.local_dir(state) / f"{MODEL}.json").read_text())


def _write_record(state: Path, data: dict) -> None:
    runtime.local_dir(state).mkdir(parents=True, exist_ok=True)
    (runtime.local_dir(state) / f"{MODEL}.json").write_text(json.dumps(data))


def _old_format(data: dict) -> dict:
    """The record as kslab wrote it before start time and argv were kept."""
    return {k: v for k, v in data.items() if k not in ("start_time", "argv")}


@pytest.mark.parametrize("fmt", ["current", "old"])
def test_a_record_copied_from_another_state_dir_never_stops_that_server(server_a, tmp_path, fmt):
    state_a, deployment = server_a
    state_b = tmp_path / "state-b"
    data = _record(state_a)
    _write_record(state_b, data if fmt == "current" else _old_format(data))
    assert runtime.status(state_b, MODEL) is None  # not B's server: B's stale record is dropped
    _write_record(state_b, data if fmt == "current" else _old_format(data))
    assert runtime.stop(state_b, MODEL) is False
    assert process.alive(deployment.pid), "B's stale record stopped A's server"
    assert runtime.status(state_a, MODEL) is not None and runtime.status(state_a, MODEL).pid == deployment.pid


def test_a_record_whose_pid_started_at_another_time_is_not_that_server(server_a):
    state_a, deployment = server_a
    data = _record(state_a)
    assert data["start_time"] and data["argv"][2:4] == ["kslab.local.server", "--name"]
    _write_record(state_a, data | {"start_time": str(int(data["start_time"]) - 1)})  # the pid was reused
    assert runtime.stop(state_a, MODEL) is False
    assert process.alive(deployment.pid)
    assert not (runtime.local_dir(state_a) / f"{MODEL}.json").exists()


def test_an_old_record_with_the_exact_command_line_is_still_stopped(server_a):
    """Backward compatible: a record without start time and argv counts when the command line matches exactly."""
    state_a, deployment = server_a
    _write_record(state_a, _old_format(_record(state_a)))
    assert runtime.status(state_a, MODEL).pid == deployment.pid
    assert runtime.stop(state_a, MODEL) is True
    assert pid_gone(deployment.pid)


def test_an_old_record_with_another_model_dir_is_not_ours(server_a):
    state_a, deployment = server_a
    _write_record(state_a, _old_format(_record(state_a)) | {"model_dir": "/somewhere/else"})
    assert runtime.stop(state_a, MODEL) is False
    assert process.alive(deployment.pid)


@pytest.fixture
def signals_sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """No signal leaves this test: os.kill/os.killpg record what they were asked to send instead.

    Only the harmless existence probe (signal 0 to a pid above 1) reaches the kernel. pid 0 means this test's
    own process group, and killpg(1) is kill(-1): every process this user may signal, so a regression here
    must never get as far as the kernel.
    """
    sent: list[tuple[str, int, int]] = []
    real_kill = os.kill

    def kill(pid: int, sig: int) -> None:
        if sig == 0 and type(pid) is int and pid > 1:
            real_kill(pid, 0)
            return
        sent.append(("kill", pid, sig))

    def killpg(pgid: int, sig: int) -> None:
        sent.append(("killpg", pgid, sig))

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(os, "killpg", killpg)
    return sent


@pytest.mark.parametrize("pid", [0, -1, 1, True])
def test_a_record_with_pid_0_1_or_negative_is_never_signalled(tmp_path, signals_sent, pid):
    state = tmp_path / "state"
    record = {"name": MODEL, "pid": pid, "port": 1, "model_dir": "/nowhere", "started_at": "2026-01-01T00:00:00Z",
              "log_file": "/nowhere.log"}
    _write_record(state, record)
    assert runtime.status(state, MODEL) is None
    _write_record(state, record)
    assert runtime.stop(state, MODEL) is False
    assert [s for s in signals_sent if s[2] != 0] == []
    assert not (runtime.local_dir(state) / f"{MODEL}.json").exists()


@pytest.mark.parametrize("pid", [0, 1, -1, True])
def test_terminate_group_refuses_pids_that_mean_a_group_or_everyone(signals_sent, pid):
    with pytest.raises(ValueError, match=f"refusing to signal pid {pid}"):
        process.terminate_group(pid, 0.1)
    assert signals_sent == []
    assert process.alive(pid) is False


@pytest.mark.parametrize("bad", [{"model_dir": 5}, {"port": "80"}, {"argv": 7}, {"name": "other"}])
def test_a_malformed_record_is_dropped_without_a_signal(server_a, signals_sent, bad):
    state_a, deployment = server_a
    _write_record(state_a, _record(state_a) | bad)
    assert runtime.status(state_a, MODEL) is None
    assert [s for s in signals_sent if s[2] != 0] == [] and process.alive(deployment.pid)
