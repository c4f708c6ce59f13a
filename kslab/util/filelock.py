"""An exclusive lock between kslab processes: ``flock`` on a lock file, waited for with a timeout.

The kernel drops the lock when its holder exits, however it exits (SIGKILL included), so a crashed kslab never
leaves a stale lock behind and the lock file itself is never removed (removing it would let two processes
lock two different files of the same name). Re-entrant within one process: a holder that takes the same
lock again (a deploy that stops the server it just started) goes straight through. Linux and macOS.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from kslab.errors import WaitTimeout

_POLL_S = 0.05
_HELD: dict[str, int] = {}  # lock files this process holds -> how many nested holders


@contextlib.contextmanager
def file_lock(path: Path, timeout_s: float, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing); WaitTimeout after ``timeout_s``.

    ``what`` says in the timeout message what the holder is doing ("deploying sklearn-iris locally").
    """
    key = str(path.absolute())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WaitTimeout(f"waited {timeout_s:g}s for another kslab {what} (lock {path})",
                                      "let the other command finish, or stop it, then run this again") from None
                time.sleep(_POLL_S)
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        os.close(fd)  # closing the only descriptor releases the flock
