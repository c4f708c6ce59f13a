"""Watch streams: ``?watch=true`` (and WatchList) semantics on top of the store's event log.

Follows the real apiserver:
- no resourceVersion or "0": synthetic ADDED events for the current matching objects, then live events;
- a resourceVersion: events after it; if that history is gone the stream is a single ERROR event
  carrying a 410 Expired Status (HTTP status stays 200);
- ``sendInitialEvents=true`` (WatchList, needs resourceVersionMatch=NotOlderThan and
  allowWatchBookmarks=true): ADDED for the current objects, then a BOOKMARK annotated
  ``k8s.io/initial-events-end: "true"``, then live events;
- selectors: an object that starts matching shows up as ADDED, one that stops matching as DELETED;
- the stream ends cleanly at ``timeoutSeconds``, when the client goes away, or when the server stops.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from .errors import ApiError
from .resources import ResourceType
from .selectors import field_predicate, label_predicate
from .store import Event, Store

Obj = dict[str, Any]
DEFAULT_TIMEOUT = 1800.0
POLL = 0.25  # how often an idle stream checks for a departed client / server shutdown


def query_bool(value: str | None) -> bool:
    """A boolean query parameter the way Go's strconv.ParseBool reads it."""
    return value in ("1", "t", "T", "true", "TRUE", "True")


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: {field}: Forbidden: {message}',
                    {"kind": "ListOptions", "group": "meta.k8s.io",
                     "causes": [{"reason": "FieldValueForbidden", "message": f"Forbidden: {message}",
                                 "field": field}]})


class WatchRequest:
    """A parsed, validated watch; :meth:`run` streams it through ``send``."""

    def __init__(self, store: Store, rt: ResourceType, namespace: str | None, query: dict[str, str]) -> None:
        self.store, self.rt, self.namespace = store, rt, namespace or None
        by_label = label_predicate(query.get("labelSelector"))
        by_field = field_predicate(query.get("fieldSelector"))
        self.matches: Callable[[Obj], bool] = lambda obj: by_label(obj) and by_field(obj)
        self.bookmarks = query_bool(query.get("allowWatchBookmarks"))
        send_initial = query.get("sendInitialEvents")
        match = query.get("resourceVersionMatch")
        if send_initial is not None:
            if match != "NotOlderThan":
                raise _invalid("resourceVersionMatch",
                               "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
            if not self.bookmarks:
                raise _invalid("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true")
        elif match:
            raise _invalid("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless "
                           "sendInitialEvents is provided")
        self.send_initial = query_bool(send_initial)
        rv = query.get("resourceVersion") or ""
        if rv and not rv.isdigit():
            raise ApiError.bad_request(f"invalid resource version: {rv!r}")
        self.rv = int(rv) if rv else 0
        try:
            self.timeout = float(query.get("timeoutSeconds") or DEFAULT_TIMEOUT)
        except ValueError as exc:
            raise ApiError.bad_request(f"invalid timeoutSeconds: {query.get('timeoutSeconds')!r}") from exc
        self.known: dict[tuple[str, str], bool] = {}  # (ns, name) -> currently visible to this watcher

    # -- initial state -----------------------------------------------------------------------------
    def _snapshot(self) -> tuple[list[Obj], int]:
        items, rv = self.store.list(self.rt, self.namespace)
        return items, rv

    def _state_at(self, rv: int) -> None:
        """Work out which objects this watcher would have considered matching at ``rv``."""
        items, now = self._snapshot()
        for obj in items:
            self.known[_ident(obj)] = self.matches(obj)
        history = self.store.events_since(self.store.oldest_resource_version, self.rt.key, self.namespace)
        before: dict[tuple[str, str], Event] = {}
        first_after: dict[tuple[str, str], Event] = {}
        for event in history:
            ident = _ident(event.object)
            if event.rv <= rv:
                before[ident] = event
            elif event.rv <= now:
                first_after.setdefault(ident, event)
        for ident, event in first_after.items():
            if ident in before:
                prior = before[ident]
                self.known[ident] = prior.type != "DELETED" and self.matches(prior.object)
            elif event.type == "ADDED":
                self.known[ident] = False
            else:
                self.known.pop(ident, None)  # history compacted: unknown

    # -- event translation ---------------------------------------------------------------------------
    def translate(self, event: Event) -> Obj | None:
        obj, ident = event.object, _ident(event.object)
        was = self.known.get(ident)
        if event.type == "DELETED":
            self.known.pop(ident, None)
            visible = was if was is not None else self.matches(obj)
            return {"type": "DELETED", "object": obj} if visible else None
        now = self.matches(obj)
        self.known[ident] = now
        if now:
            kind = "ADDED" if event.type == "ADDED" or was is False else "MODIFIED"
            return {"type": kind, "object": obj}
        if was is None and event.type == "MODIFIED":
            was = True  # unknown prior state: tell the client, a DELETED for an unseen object is harmless
        return {"type": "DELETED", "object": obj} if was else None

    def bookmark(self, rv: int, initial_end: bool = False) -> Obj:
        meta: Obj = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"type": "BOOKMARK", "object": {"kind": self.rt.kind, "apiVersion": self.rt.api_version,
                                               "metadata": meta}}

    # -- streaming -----------------------------------------------------------------------------------
    def run(self, send: Callable[[Obj], None], *, stopped: Callable[[], bool], drop_after: int | None = None,
            on_live: Callable[[], None] | None = None) -> bool:
        """Stream events until timeout/stop/disconnect; False if cut short by ``drop_after``. ``on_live`` is called
        once the starting point is fixed (initial events sent): every later change reaches the client as an event."""
        deadline = time.monotonic() + self.timeout
        sent = 0

        def emit(event: Obj) -> bool:
            nonlocal sent
            send(event)
            sent += 1
            return drop_after is None or sent < drop_after

        if self.rv == 0 or self.send_initial:
            items, cursor = self._snapshot()
            for obj in items:
                visible = self.matches(obj)
                self.known[_ident(obj)] = visible
                if visible and not emit({"type": "ADDED", "object": obj}):
                    return False
            if self.send_initial and not emit(self.bookmark(cursor, initial_end=True)):
                return False
        else:
            cursor = self.rv
            with contextlib.suppress(ApiError):  # a too-old cursor is reported by events_since below
                self._state_at(cursor)
        if on_live is not None:
            on_live()
        while time.monotonic() < deadline and not stopped():
            seen = self.store.resource_version
            try:
                events = self.store.events_since(cursor, self.rt.key, self.namespace)
            except ApiError as exc:
                send({"type": "ERROR", "object": exc.status()})
                return True
            for event in events:
                out = self.translate(event)
                if out is not None and not emit(out):
                    return False
            cursor = max(cursor, seen, events[-1].rv if events else 0)
            self.store.wait_for_change(cursor, max(0.0, min(POLL, deadline - time.monotonic())))
        return True


def _ident(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")
