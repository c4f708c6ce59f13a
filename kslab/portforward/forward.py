"""PortForward: one ``kubectl port-forward`` on 127.0.0.1 that stays up until it is stopped.

kslab picks the local port (or takes the user's), starts the real kubectl from PATH with an argument
list in its own process group, and calls the forward ready when kubectl prints
``Forwarding from 127.0.0.1:<port>``. kubectl ends a forward for good on the first failed connection
("lost connection to pod"), so a watchdog thread restarts it on the same local port, with backoff
and a bounded number of consecutive failures; clients keep their URL. ``stop`` (or leaving the
``with`` block, Ctrl-C included) terminates the child and then kills it; see cleanup.py for exits
and signals.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from kslab.errors import CheckFailed, KslabError, WaitTimeout
from kslab.models.cluster import ClusterAccess
from kslab.portforward import cleanup
from kslab.portforward.process import KubectlProcess
from kslab.util.process import require

ADDRESS = "127.0.0.1"
EventSink = Callable[[str], None]


@dataclass(frozen=True)
class ForwardTarget:
    """What to forward to: ``resource`` is kubectl's TYPE/NAME (``svc/x``, ``pod/y``)."""

    namespace: str
    resource: str
    remote_port: int

    def describe(self) -> str:
        return f"{self.resource}:{self.remote_port} in namespace {self.namespace}"


def free_port(host: str = ADDRESS) -> int:
    """A port nothing listens on right now (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def kubectl_argv(kubectl: str, target: ForwardTarget, local_port: int,
                 access: ClusterAccess | None = None) -> list[str]:
    """The command line: always ``--address 127.0.0.1`` and an explicit LOCAL:REMOTE."""
    argv = [kubectl, "port-forward", "--address", ADDRESS, "--namespace", target.namespace]
    if access is not None and access.kubeconfig:
        argv += ["--kubeconfig", access.kubeconfig]
    if access is not None and access.context:
        argv += ["--context", access.context]
    return [*argv, target.resource, f"{local_port}:{target.remote_port}"]


_HINTS = (  # (text in kubectl's error output, the fix), first match wins
    ("pod is not running", "wait until the pod is Running (kubectl get pods -n {ns}), or see 'kslab doctor'"),
    ("not found", "check the name and namespace: kubectl get {kind} -n {ns}"),
    ("does not have a", "check the ports it exposes: kubectl get {kind} -n {ns} -o yaml"),
    ("unable to listen", "choose another local port with --port, or stop what listens on it"),
    ("timed out waiting", "no Running pod backs it yet: kubectl get pods -n {ns}"),
    ("refused", "is the cluster running? check 'kslab status' or --kubeconfig/--context"),
    ("lost connection", "the pod stopped answering on that port: kubectl get pods -n {ns}, 'kslab doctor'"),
)


def failure_hint(stderr: str, target: ForwardTarget) -> str:
    """The fix for a kubectl port-forward failure, from what kubectl printed on stderr."""
    kind = target.resource.partition("/")[0] or "pods"
    for needle, hint in _HINTS:
        if needle in stderr:
            return hint.format(ns=target.namespace, kind=kind)
    return f"run it by hand to see more: kubectl port-forward -n {target.namespace} {target.resource} " \
           f"{target.remote_port}"


class PortForward:
    """``kubectl port-forward`` to ``target`` on 127.0.0.1, kept alive until ``stop``. Thread-safe."""

    def __init__(self, target: ForwardTarget, *, access: ClusterAccess | None = None, local_port: int | None = None,
                 ready_timeout: float = 30.0, max_restarts: int = 5, backoff: float = 0.2,
                 stable_after: float = 10.0, kubectl: str = "kubectl", on_event: EventSink | None = None) -> None:
        self.target = target
        self.access = access
        self.ready_timeout = ready_timeout
        self.max_restarts = max_restarts  # consecutive failed restarts before giving up
        self.backoff = backoff
        self.stable_after = stable_after  # a forward up this long resets the failure count
        self._kubectl = kubectl
        self._on_event = on_event or (lambda _message: None)
        self._requested_port = local_port
        self._port: int | None = None
        self._lock = threading.RLock()
        self._child: KubectlProcess | None = None
        self._stopping = threading.Event()
        self._failed = threading.Event()
        self._failure: KslabError | None = None
        self._watchdog: threading.Thread | None = None
        self._restarts = 0

    # -- what callers read -------------------------------------------------------------------
    @property
    def local_port(self) -> int:
        if self._port is None:
            raise RuntimeError("PortForward not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{ADDRESS}:{self.local_port}"

    @property
    def pid(self) -> int | None:
        """The current kubectl's process id (it changes on every restart)."""
        child = self._child
        return child.pid if child is not None and child.proc.returncode is None else None

    @property
    def restarts(self) -> int:
        return self._restarts

    @property
    def failure(self) -> KslabError | None:
        """Why the watchdog gave up (None while the forward is up or was stopped on purpose)."""
        return self._failure

    def wait_failed(self, timeout: float | None = None) -> bool:
        """Block until the watchdog gives up (True) or ``timeout`` passes (False)."""
        return self._failed.wait(timeout)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> PortForward:
        with self._lock:
            if self._port is not None:
                raise RuntimeError("PortForward already started")
            self._kubectl = require(self._kubectl)
            self._port = self._requested_port or free_port()
            cleanup.register(self)
        try:
            self._spawn_ready()
        except BaseException:
            self.stop()
            raise
        self._watchdog = threading.Thread(target=self._watch, daemon=True,
                                          name=f"port-forward-watchdog-{self._port}")
        self._watchdog.start()
        return self

    def stop(self) -> None:
        """Terminate kubectl and the watchdog; safe to call twice and from any thread."""
        self._stopping.set()
        with self._lock:
            child = self._child
        if child is not None:
            child.terminate()
        watchdog = self._watchdog
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join(5)
        cleanup.unregister(self)

    def kill_now(self) -> None:
        """SIGKILL kubectl at once, from a signal handler: no locks, no waiting."""
        self._stopping.set()
        child = self._child
        if child is not None:
            child.kill_now()

    def __enter__(self) -> PortForward:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------------------
    def _spawn_ready(self) -> KubectlProcess | None:
        """Start kubectl and wait for its Forwarding line; None if stopped meanwhile."""
        with self._lock:
            if self._stopping.is_set():
                return None
            child = self._child = KubectlProcess(kubectl_argv(self._kubectl, self.target, self.local_port, self.access))
        outcome = child.wait_ready(self.ready_timeout)
        if outcome:
            return child
        if self._stopping.is_set():
            return None
        child.terminate()
        if outcome is None:
            raise WaitTimeout(f"kubectl port-forward {self.target.describe()} did not print 'Forwarding from "
                              f"{ADDRESS}:{self.local_port}' within {self.ready_timeout:g}s",
                              f"is a pod behind it Running? kubectl get pods -n {self.target.namespace}")
        raise CheckFailed(f"kubectl port-forward {self.target.describe()} failed: {child.last_error()}",
                          failure_hint(" ".join(child.stderr), self.target))

    def _watch(self) -> None:
        failures = 0
        child = self._child
        while child is not None:
            child.proc.wait()
            if self._stopping.is_set():
                return
            child.terminate()  # reap the readers and close the pipes of the dead one
            failures = 0 if child.lived() >= self.stable_after else failures + 1
            reason = child.last_error()
            self._on_event(f"kubectl port-forward {self.target.describe()} ended ({reason}); restarting on port "
                           f"{self.local_port}")
            child = self._restart(failures, reason)

    def _restart(self, failures: int, reason: str) -> KubectlProcess | None:
        while failures <= self.max_restarts:
            if self._stopping.wait(min(self.backoff * 2 ** max(failures - 1, 0), 5.0)):
                return None
            try:
                child = self._spawn_ready()
            except KslabError as exc:
                reason, failures = exc.message, failures + 1
                continue
            if child is not None:
                self._restarts += 1
                self._on_event(f"port-forward restarted: {self.url} -> {self.target.describe()}")
            return child
        self._failure = CheckFailed(f"port-forward to {self.target.describe()} gave up after {self.max_restarts} "
                                    f"restarts: {reason}", failure_hint(reason, self.target))
        self._on_event(self._failure.message)
        self._failed.set()
        return None
