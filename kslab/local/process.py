"""Liveness of the model-server processes kslab started: pid checks that also see zombies and pid reuse."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

SERVER_MODULE = "kslab.local.server"
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # started by this process: reaped here, never left as zombies


def adopt(process: subprocess.Popen[bytes]) -> None:
    _CHILDREN[process.pid] = process


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None:
        child.poll()  # collects the exit status, so an exited child is no zombie


def exit_code(pid: int) -> int | None:
    """The exit code when ``pid`` is a child of this process that has exited, else None."""
    child = _CHILDREN.get(pid)
    return child.poll() if child is not None else None


def _proc_stat_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0] if ")" in stat else None


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_stat_state(pid) not in ("Z", "X")


def is_model_server(pid: int) -> bool:
    """Alive and (where /proc tells) really ``python -m kslab.local.server``, not a process that reused the pid."""
    if not alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return SERVER_MODULE in cmdline


def wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def terminate_group(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``, wait ``grace_s``, then SIGKILL it; returns once it is gone."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        except PermissionError:
            os.kill(pid, sig)
        if wait_gone(pid, wait_s):
            break
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.wait(timeout=5)
