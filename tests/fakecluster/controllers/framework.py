"""The reconciler contract and the timer wheel the ControllerManager drives.

A reconciler names the resource keys it watches, maps each store Event to the (namespace, name)
requests of its primary object, and reconciles one request at a time by reading the store (level
triggered, idempotent). Timed actions ("in 0.05 s mark the pod Running") go through ``Timers``.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..resources import by_key
from ..store import Event

if TYPE_CHECKING:
    from .manager import ControllerManager
    from .settings import ControllerSettings

Obj = dict[str, Any]
Request = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects


class Reconciler:
    """Base class: override ``watches``, ``name`` and ``reconcile``; ``requests_for`` maps owned objects."""

    name: str = "reconciler"
    watches: tuple[str, ...] = ()  # first entry is the primary resource key

    def __init__(self, mgr: ControllerManager) -> None:
        self.mgr = mgr
        self.store = mgr.store

    @property
    def settings(self) -> ControllerSettings:
        """Always the manager's current settings (a test may replace the whole object)."""
        return self.mgr.settings

    @property
    def primary(self) -> str:
        return self.watches[0]

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return [(event.namespace, str(event.object["metadata"]["name"]))]
        return ()

    def resync(self) -> Iterable[Request]:
        items, _ = self.store.list(by_key(self.primary))
        return [((o["metadata"].get("namespace") or ""), str(o["metadata"]["name"])) for o in items]

    def reconcile(self, namespace: str, name: str) -> None:
        raise NotImplementedError

    def enqueue(self, namespace: str, name: str) -> None:
        self.mgr.enqueue(self.name, namespace, name)

    def requeue_after(self, delay: float, namespace: str, name: str) -> None:
        """Reconcile this request again after ``delay`` fake seconds (one pending timer per request)."""
        self.mgr.after(delay, lambda: self.enqueue(namespace, name), key=f"requeue/{self.name}/{namespace}/{name}")


class Timers:
    """A heap of (due time, action); at most one pending action per key (the earliest wins)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str | None, Callable[[], None]]] = []
        self._keys: dict[str, float] = {}
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def add(self, delay: float, action: Callable[[], None], key: str | None = None) -> None:
        due = time.monotonic() + delay
        with self._lock:
            if key is not None:
                known = self._keys.get(key)
                if known is not None and known <= due:
                    return
                self._keys[key] = due
            heapq.heappush(self._heap, (due, next(self._seq), key, action))

    def pop_due(self) -> list[Callable[[], None]]:
        now = time.monotonic()
        due: list[Callable[[], None]] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                when, _, key, action = heapq.heappop(self._heap)
                if key is not None:
                    if self._keys.get(key) != when:
                        continue  # superseded by an earlier action with the same key
                    del self._keys[key]
                due.append(action)
        return due

    def next_due_in(self) -> float | None:
        with self._lock:
            if not self._heap:
                return None
            return max(0.0, self._heap[0][0] - time.monotonic())

    def pending(self) -> int:
        with self._lock:
            return len(self._heap)
