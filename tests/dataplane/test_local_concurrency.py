"""Concurrent ``kslab deploy --provider local`` of one model against one state dir: exactly one server, none orphaned.

Each deploy is a real kslab process; they meet only through the state dir (the model's lock file).
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

from kslab.config.model import Settings
from kslab.errors import WaitTimeout
from kslab.local import runtime
from kslab.local.deploy import undeploy_local
from kslab.modelbuild.builder import ensure_build
from tests.dataplane.conftest import MODEL
from tests.leak_guard import leftover_pids, pid_gone

ROOT = Path(__file__).resolve().parents[2]
KSLAB = [sys.executable, "-c", "from kslab.cli.main import entry; entry()"]


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSLAB_")}
    return env | {"KSLAB_STATE_DIR": str(state), "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("deploys", [2, 4])
def test_concurrent_deploys_leave_exactly_one_server(tmp_path, deploys):
    state = tmp_path / "state"
    ensure_build(state, MODEL, "v1")  # built once up front: the race is about the server, not the build
    procs = [subprocess.Popen([*KSLAB, "deploy", MODEL, "--provider", "local", "-o", "json"], cwd=tmp_path,
                              env=_env(state), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(deploys)]
    results = [proc.communicate(timeout=300) for proc in procs]
    try:
        assert [proc.returncode for proc in procs] == [0] * deploys, [err for _, err in results]
        answers = [json.loads(out) for out, _ in results]
        assert sorted(a["action"] for a in answers) == ["started"] + ["unchanged"] * (deploys - 1)
        assert len({a["pid"] for a in answers}) == 1 and all(a["ready"] for a in answers)
        assert leftover_pids(str(state), children=False) == [answers[0]["pid"]]
        assert runtime.status(state, MODEL).pid == answers[0]["pid"]
    finally:
        undeploy_local(Settings(provider="local"), MODEL, state=state)
        servers = leftover_pids(str(state), children=False)
        for pid in servers:  # an orphan no record names: end it so the session guard does not trip on it
            os.kill(pid, signal.SIGKILL)
    assert servers == []


_HOLD = """
import sys, time, pathlib
from kslab.util.filelock import file_lock
with file_lock(pathlib.Path(sys.argv[1]), 5, "test"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_the_lock_waits_times_out_and_is_freed_when_its_holder_dies(tmp_path):
    from kslab.util.filelock import file_lock

    lock = runtime.lock_file(tmp_path / "state", MODEL)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(lock)], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        busy = r"waited 0.5s for another kslab deploying \(lock .*sklearn-iris.lock\)"
        with pytest.raises(WaitTimeout, match=busy), file_lock(lock, 0.5, "deploying"):
            pass
        assert 0.5 <= time.monotonic() - started < 5
    finally:
        holder.kill()  # SIGKILL: no cleanup runs, the kernel still drops the flock
        holder.wait(timeout=10)
    with file_lock(lock, 5, "deploying"), file_lock(lock, 0.1, "deploying"):  # free again, and re-entrant
        assert lock.exists()
    assert pid_gone(holder.pid)
