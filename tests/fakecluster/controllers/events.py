"""Core v1 Events that the simulated components write, aggregated like the real event recorder.

A repeat of the same (object, type, reason, message) bumps ``count`` and ``lastTimestamp`` of the
existing Event instead of creating a new one.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..errors import ApiError
from ..resources import EVENTS
from ..store import Store, now_rfc3339

Obj = dict[str, Any]


class EventRecorder:
    """Writes Events into the store; ``host`` fills ``source.host`` for kubelet events."""

    def __init__(self, store: Store, host: str) -> None:
        self.store = store
        self.host = host
        self._seen: dict[tuple[str, str, str, str], tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._counter = 0

    def record(self, involved: Obj, etype: str, reason: str, message: str, component: str,
               field_path: str | None = None) -> None:
        md = involved.get("metadata") or {}
        namespace = md.get("namespace") or "default"
        key = (str(md.get("uid")), etype, reason, message)
        with self._lock:
            known = self._seen.get(key)
            self._counter += 1
            serial = self._counter
        stamp = now_rfc3339()
        if known is not None:
            def bump(ev: Obj) -> None:
                ev["count"] = int(ev.get("count", 1)) + 1
                ev["lastTimestamp"] = stamp
            try:
                if self.store.mutate(EVENTS, known[0], known[1], bump, manager=component) is not None:
                    return
            except ApiError:
                pass
        ref: Obj = {"kind": involved.get("kind"), "namespace": md.get("namespace"), "name": md.get("name"),
                    "uid": md.get("uid"), "apiVersion": involved.get("apiVersion"),
                    "resourceVersion": md.get("resourceVersion")}
        if not md.get("namespace"):
            ref.pop("namespace")
        if field_path:
            ref["fieldPath"] = field_path
        source: Obj = {"component": component}
        if component == "kubelet":
            source["host"] = self.host
        name = f"{md.get('name')}.{int(time.time() * 1e9) + serial:x}"
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": etype,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": self.host if component == "kubelet" else "",
        }
        try:
            self.store.create(EVENTS, namespace, event, manager=component)
        except ApiError:
            return  # namespace gone: the real recorder drops such events too
        with self._lock:
            self._seen[key] = (namespace, name)
