"""Leave no kubectl behind: stop every live port-forward at exit and on SIGTERM / SIGHUP.

Ctrl-C needs nothing here: Python turns SIGINT into KeyboardInterrupt and the forward's context
manager (or ``stop``) ends the child. SIGTERM and SIGHUP would kill the interpreter without running
``finally`` blocks or atexit, and the kubectl children live in their own process groups, so they
would survive; the handler installed here kills them first and then lets the signal do what it
did before (the previous handler, or the default action).
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from types import FrameType
from typing import Any, Protocol


class Stoppable(Protocol):
    def stop(self) -> None: ...

    def kill_now(self) -> None: ...


_LOCK = threading.Lock()
_LIVE: set[Stoppable] = set()
_HOOKED = False
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def register(forward: Stoppable) -> None:
    """Track ``forward`` until ``unregister``; the first call installs the exit and signal hooks."""
    global _HOOKED
    with _LOCK:
        _LIVE.add(forward)
        if _HOOKED:
            return
        _HOOKED = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for signum in _SIGNALS:
            signal.signal(signum, _chained(signum, signal.getsignal(signum)))


def unregister(forward: Stoppable) -> None:
    with _LOCK:
        _LIVE.discard(forward)


def live() -> list[Stoppable]:
    with _LOCK:
        return list(_LIVE)


def _stop_all() -> None:
    for forward in live():
        forward.stop()


def _chained(signum: int, previous: Any) -> Any:
    def handler(received: int, frame: FrameType | None) -> None:
        for forward in live():
            forward.kill_now()  # no locks, no waiting: we may have interrupted the code holding them
        if callable(previous):
            previous(received, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    return handler
