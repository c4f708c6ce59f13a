"""ControllerManager: one thread that follows the store's event log and drives every reconciler.

Loop: read new store events (``events_since``), map them to reconcile requests, run due timers,
work the queue, then block in ``wait_for_change`` until the store moves or the next timer is due.
Everything runs on that one thread, so the simulation is deterministic for a given sequence of
test actions (random name suffixes come from ``random.Random(settings.seed)``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ..errors import ApiError
from ..store import Store
from .events import EventRecorder
from .framework import Reconciler, Timers
from .settings import ControllerSettings

Obj = dict[str, Any]
log = logging.getLogger("fakecluster.controllers")

_MAX_RETRIES = 20


class ControllerManager:
    """All simulated controllers of one FakeCluster. ``settings`` may be changed at any time."""

    def __init__(self, cluster: Any, settings: ControllerSettings | None = None) -> None:
        self.cluster = cluster
        self.store: Store = cluster.store
        self.node = cluster.node
        self.node_name: str = getattr(cluster, "node_name", "kslab-control-plane")
        self.settings = settings or ControllerSettings()
        self.rng = random.Random(self.settings.seed)
        self.events = EventRecorder(self.store, self.node_name)
        self.timers = Timers()
        self.errors: list[str] = []  # unexpected exceptions inside reconcilers (tests assert it stays empty)
        self.log: list[str] = []  # transient failures that were retried (conflicts, races)
        self.loads: dict[tuple[str, str], float] = {}  # (namespace, isvc) -> concurrent requests
        self._queue: dict[tuple[str, str, str], None] = {}
        self._retries: dict[tuple[str, str, str], int] = {}
        self._queue_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rv = self.store.resource_version
        self._busy = False
        self._ip_counter = 10
        from .registry import build_admission, build_reconcilers

        self.webhooks: Any = None  # KServeWebhooks, set by build_admission
        self._admission = build_admission(self)
        self.reconcilers: list[Reconciler] = build_reconcilers(self)
        self._by_name = {r.name: r for r in self.reconcilers}
        if getattr(cluster, "controllers", None) is None:
            cluster.controllers = self

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> ControllerManager:
        if self._thread is not None:
            return self
        for hook in self._admission:
            self.store.admission.append(hook)
        self._rv = self.store.resource_version
        self._resync()
        self._thread = threading.Thread(target=self._run, name="fake-controllers", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for hook in self._admission:
            if hook in self.store.admission:
                self.store.admission.remove(hook)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- API used by reconcilers and tests -----------------------------------------------------------
    def enqueue(self, reconciler: str, namespace: str, name: str) -> None:
        with self._queue_lock:
            self._queue[(reconciler, namespace, name)] = None

    def after(self, delay: float, action: Callable[[], None], key: str | None = None) -> None:
        """Run ``action`` on the controller thread after ``delay`` fake seconds (scaled by time_scale)."""
        self.timers.add(self.settings.delay(delay), action, key)

    def next_pod_ip(self) -> str:
        self._ip_counter += 1
        return f"10.244.{self._ip_counter // 250}.{self._ip_counter % 250 + 2}"

    def set_load(self, namespace: str, isvc: str, concurrency: float) -> None:
        """Drive the Knative autoscaler stand-in: ``concurrency`` in-flight requests to InferenceService ``isvc``."""
        self.loads[(namespace, isvc)] = float(concurrency)
        for req in self._by_name["autoscaler"].resync():
            self.enqueue("autoscaler", *req)

    def resync(self) -> None:
        """Re-reconcile everything (call after changing a setting that no store event would reveal)."""
        self._resync()

    def idle(self) -> bool:
        """True when no store event is unprocessed and the work queue is empty (timers may still be pending)."""
        with self._queue_lock:
            queued = bool(self._queue)
        return not queued and not self._busy and self.store.resource_version == self._rv

    def wait_idle(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.005)
        return False

    # -- the loop -----------------------------------------------------------------------------------
    def _resync(self) -> None:
        for rec in self.reconcilers:
            for ns, name in rec.resync():
                self.enqueue(rec.name, ns, name)

    def _drain_events(self) -> None:
        try:
            events = self.store.events_since(self._rv)
        except ApiError:  # 410 Gone: history compacted under us -> full resync
            self._rv = self.store.resource_version
            self._resync()
            return
        for event in events:
            self._rv = event.rv
            if event.key == "/events":
                continue
            for rec in self.reconcilers:
                if event.key in rec.watches:
                    for ns, name in rec.requests_for(event):
                        self.enqueue(rec.name, ns, name)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._busy = True
            try:
                self._drain_events()
                for action in self.timers.pop_due():
                    self._guard("timer", action)
                with self._queue_lock:
                    batch = list(self._queue)
                    self._queue.clear()
                for item in batch:
                    if self._stop.is_set():
                        return
                    self._reconcile(item)
            finally:
                self._busy = False
            with self._queue_lock:
                more = bool(self._queue)
            if more:
                continue
            wait = self.timers.next_due_in()
            self.store.wait_for_change(self._rv, 0.05 if wait is None else min(0.05, wait))

    def _reconcile(self, item: tuple[str, str, str]) -> None:
        rec = self._by_name[item[0]]
        try:
            rec.reconcile(item[1], item[2])
            self._retries.pop(item, None)
        except ApiError as err:
            self._retry(item, f"{item}: {err.code} {err.reason}: {err.message}", transient=True)
        except Exception:  # a bug in a simulated controller: keep running, remember it for the test
            self._retry(item, f"{item}: {traceback.format_exc()}", transient=False)

    def _retry(self, item: tuple[str, str, str], text: str, transient: bool) -> None:
        count = self._retries.get(item, 0) + 1
        self._retries[item] = count
        (self.log if transient else self.errors).append(text)
        log.debug("reconcile failed: %s", text)
        if count <= _MAX_RETRIES:
            self.after(self.settings.requeue_delay * min(count, 10),
                       lambda: self.enqueue(*item), key=f"retry/{'/'.join(item)}")

    def _guard(self, what: str, action: Callable[[], None]) -> None:
        try:
            action()
        except ApiError as err:
            self.log.append(f"{what}: {err.code} {err.reason}: {err.message}")
        except Exception:
            self.errors.append(f"{what}: {traceback.format_exc()}")
