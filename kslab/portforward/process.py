"""One ``kubectl port-forward`` process: started in its own process group, read, and ended completely.

Two threads read its stdout (the "Forwarding from 127.0.0.1:<port>" readiness line) and stderr (the
error text), so the pipes never fill up. Ending it signals the whole group, so a wrapper script's
children go too.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import threading
import time

READY_LINE = re.compile(r"^Forwarding from 127\.0\.0\.1:(\d+) -> \S+")


def group_alive(pgid: int) -> bool:
    """Whether a process that is not a zombie is left in process group ``pgid``.

    Zombies count as gone: they hold no port and run no code, and a slow init may take seconds to reap
    the ones a wrapper script leaves behind. Without /proc, any member counts.
    """
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not os.path.isdir("/proc/self"):
        return True
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                    fields = fh.read().rpartition(")")[2].split()
            except OSError:
                continue
            if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


class KubectlProcess:
    """One kubectl process: its output is read by two threads so the pipes never fill up."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, errors="replace", start_new_session=True)
        self.ready = threading.Event()
        self.ready_at: float | None = None
        self.stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True, name="port-forward-out"),
                         threading.Thread(target=self._read_stderr, daemon=True, name="port-forward-err")]
        for reader in self._readers:
            reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if not self.ready.is_set() and READY_LINE.match(line):
                self.ready_at = time.monotonic()
                self.ready.set()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.strip():
                self.stderr.append(line.strip())

    def wait_ready(self, timeout: float) -> bool | None:
        """True when ready, False when kubectl exited first, None when ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.02):
            if self.proc.poll() is not None:
                self._readers[1].join(2)  # the whole error text, not the part read so far
                return self.ready.is_set()
            if time.monotonic() >= deadline:
                return None
        return True

    def last_error(self) -> str:
        return self.stderr[-1] if self.stderr else f"kubectl exited with code {self.proc.returncode}"

    def lived(self) -> float:
        return time.monotonic() - self.ready_at if self.ready_at is not None else 0.0

    def _signal_group(self, signum: int) -> bool:
        """Send ``signum`` to kubectl's process group; False when no live process is left in it."""
        try:
            os.killpg(self.proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return group_alive(self.proc.pid)

    def kill_now(self) -> None:
        """SIGKILL the process group if kubectl is still ours to signal (never waits, never locks)."""
        if self.proc.returncode is None:
            self._signal_group(signal.SIGKILL)

    def _empty_group(self, grace: float) -> None:
        """Wait until nothing is left in kubectl's process group (a wrapper's children), SIGKILL stragglers.

        The group id cannot be reused while any member lives, so signalling it after kubectl is reaped is safe.
        """
        for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):  # zombies wait for init: bounded
            if not self._signal_group(signum):
                return
            until = time.monotonic() + wait
            while time.monotonic() < until:
                time.sleep(0.02)
                if not group_alive(self.proc.pid):
                    return

    def terminate(self, grace: float = 3.0) -> None:
        """SIGTERM the group, SIGKILL it after ``grace`` seconds, reap kubectl, close the pipes."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill_now()
                self.proc.wait()
        self._empty_group(grace)
        for reader in self._readers:
            reader.join(2)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
