"""Liveness and stopping of the model-server processes kslab started: pid checks that also see zombies.

Whether a pid is still *the* server a record names (and not a process that reused the number) is decided by
kslab.local.runtime from the pid, start time and argv (kslab.local.identity). pid 0, 1 and negatives are never
signalled: to kill(2) they mean this process's own group, init, or every process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from kslab.local.identity import valid_pid

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
    """True while ``pid`` runs (a zombie counts as gone); always False for pid <= 1."""
    if not valid_pid(pid):
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_stat_state(pid) not in ("Z", "X")


def wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def terminate_group(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``, wait ``grace_s``, then SIGKILL it; returns once it is gone.

    ValueError for pid <= 1 (kill(2) would read it as this process's own group, init or every process).
    """
    if not valid_pid(pid):
        raise ValueError(f"refusing to signal pid {pid!r}: not a model server's process group")
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
