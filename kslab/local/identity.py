"""Which process a pid is *now*: its start time and command line, read from the OS.

A pid alone names a process only until it exits; the kernel then hands the number to the next process. A
runtime record therefore keeps the server's start time and exact argv as well, and a record names a live
server only when all three still agree (kslab.local.runtime). Linux reads ``/proc/<pid>/stat`` (field 22,
``starttime``: clock ticks since boot) and ``/proc/<pid>/cmdline``; without /proc (macOS) ``ps`` answers
(start time to the second, the command line joined by spaces).

pid 0, pid 1 and negative pids never name a runtime: for ``kill``/``killpg`` they mean "my own process
group", init, or "every process I may signal".
"""

from __future__ import annotations

from pathlib import Path

from kslab.errors import KslabError

_PROC = Path("/proc")
_PS_TIMEOUT_S = 5.0


def valid_pid(pid: object) -> bool:
    """An int above 1: the only pids kslab may record for, or signal as, a server it started."""
    return isinstance(pid, int) and not isinstance(pid, bool) and pid > 1


def _has_proc() -> bool:
    return (_PROC / "self" / "stat").is_file()


def _ps(pid: int, field: str) -> str | None:
    from kslab.util.process import run_tool

    try:
        done = run_tool("ps", ["-ww", "-o", f"{field}=", "-p", str(pid)], timeout=_PS_TIMEOUT_S)
    except KslabError:
        return None
    text = done.stdout.strip()
    return text if done.ok and text else None


def start_time(pid: int) -> str | None:
    """When ``pid`` started, as the OS tells it (an opaque string: compare, do not parse); None if it is gone."""
    if not valid_pid(pid):
        return None
    if not _has_proc():
        return _ps(pid, "lstart")
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the name in (...) may hold spaces; fields after it start at 3
    return fields[19] if len(fields) > 19 else None  # field 22 (starttime) is the 20th after the name


def command_line(pid: int) -> str | None:
    """``pid``'s argv joined by single spaces; None if it is gone or cannot be read."""
    if not valid_pid(pid):
        return None
    if not _has_proc():
        return _ps(pid, "command")
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return " ".join(raw.rstrip(b"\0").decode("utf-8", "replace").split("\0")) if raw else None
