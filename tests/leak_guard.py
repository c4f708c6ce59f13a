"""Session guard: no model server or kubectl port-forward started by this test run may outlive it."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

WATCHED = ("kslab.local.server", "port-forward")


def leftover_pids(marker: str, watched: tuple[str, ...] = WATCHED, children: bool = True) -> list[int]:
    """Live watched processes carrying ``marker`` (a temp dir) in argv, or (``children``) started by pytest."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except (OSError, ValueError, IndexError):
            continue
        if fields[0] == "Z" or not any(w in cmdline for w in watched):
            continue
        if (children and int(fields[1]) == os.getpid()) or marker in cmdline:
            found.append(int(entry.name))
    return found


def pid_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z"


@pytest.fixture(scope="session", autouse=True)
def no_child_process_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the session if a model server or port-forward this run started survives it (and end it)."""
    marker = str(tmp_path_factory.getbasetemp())
    yield
    leftovers = leftover_pids(marker) if Path("/proc").is_dir() else []
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert leftovers == [], f"processes left behind by the test run: {leftovers}"
