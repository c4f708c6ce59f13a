"""SIGTERM and SIGHUP end a command the way Ctrl-C does: every ``finally`` and ``except KeyboardInterrupt`` runs.

Python turns SIGINT into KeyboardInterrupt; SIGTERM and SIGHUP would kill the interpreter without unwinding, so a
model server kslab started would survive and the run record would stay ``running``. While ``handled()`` is active
(the CLI wraps every command in it) they raise :class:`Terminated`, a KeyboardInterrupt, so the same cleanup paths
run and the record ends ``interrupted``; the exit code is 128 + the signal (143 for SIGTERM, 130 for Ctrl-C).

A component that stops gracefully on a signal instead of letting the exception through (the load engine keeps
its partial result) calls :func:`note`; the run record's lifecycle (``Session.recorded``) then ends the run
``interrupted`` and raises :func:`interruption`, so a swallowed signal is never a pass.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

TERMINATING = (signal.SIGTERM, signal.SIGHUP)
STOPPING = (signal.SIGINT, *TERMINATING)  # what a graceful stop (the load engine) listens for


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C; exit 128 + ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


_state: dict[str, Any] = {"active": False, "received": None}


def note(signum: int) -> None:
    """Remember that ``signum`` stopped something gracefully (the first signal wins)."""
    if _state["received"] is None:
        _state["received"] = signum


def pending() -> int | None:
    """The signal noted (or raised) during this command, if any."""
    return _state["received"]


def interruption() -> KeyboardInterrupt:
    """The exception that ends a command a noted signal stopped: Terminated for SIGTERM/SIGHUP, else Ctrl-C's."""
    received = pending()
    return Terminated(received) if received in TERMINATING else KeyboardInterrupt()


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def exit_code(exc: BaseException | None = None) -> int:
    """128 + the signal behind ``exc`` (or the noted one): 143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl-C."""
    if isinstance(exc, Terminated):
        return 128 + exc.signum
    received = pending()
    return 128 + (received if received in TERMINATING else signal.SIGINT)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    if not _state["active"]:  # left installed by a chained handler after the command: the default action
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    first = _state["received"] is None
    note(signum)
    if first:  # a second SIGTERM during cleanup must not cut the cleanup short (every wait has a timeout)
        raise Terminated(signum)


@contextmanager
def handled() -> Iterator[None]:
    """SIGTERM/SIGHUP raise Terminated for the block (main thread only); the previous handlers come back after."""
    _state["received"] = None
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in TERMINATING}
    _state["active"] = True
    for signum in TERMINATING:
        signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        _state["active"] = False
        for signum, handler in previous.items():
            if signal.getsignal(signum) is _raise_terminated:  # a chained handler stays; ours then acts as default
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def stopping_gracefully(stop: Any) -> Iterator[None]:
    """Outside an event loop: SIGINT/SIGTERM/SIGHUP call ``stop()`` (and are noted) instead of raising."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        note(signum)
        stop()

    previous = {signum: signal.signal(signum, handler) for signum in STOPPING}
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before if handler_before is not None else signal.SIG_DFL)
