"""Watch-based waits: react to the event that makes a predicate true, give up at a deadline.

The object is read once, then a watch continues from its resourceVersion; a stream that ends is
resumed, a 410 Gone re-reads the object. On timeout a WaitTimeout names the object, what was awaited
and the last conditions seen, so the user knows where it stuck.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kslab.errors import KslabError, WaitTimeout
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import summarize
from kslab.kube.errors import KubeApiError
from kslab.kube.resources import ResourceRef

Obj = dict[str, Any]
Predicate = Callable[[Obj | None], bool]


def wait_for(kube: Kube, ref: ResourceRef, name: str, namespace: str | None, predicate: Predicate, *,
             timeout: float, what: str, on_change: Callable[[Obj | None], None] | None = None) -> Obj | None:
    """Return the object once ``predicate(obj)`` holds (obj is None while it does not exist)."""
    deadline = time.monotonic() + timeout
    obj = kube.find(ref, name, namespace)
    if on_change is not None:
        on_change(obj)
    if predicate(obj):
        return obj
    resource_version = _rv(obj) or kube.list(ref, namespace, field_selector=f"metadata.name={name}")[1]
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            for kind, event_obj in kube.watch(ref, namespace, name=name, resource_version=resource_version,
                                              timeout_seconds=max(1, int(remaining + 0.999))):
                if kind == "BOOKMARK":
                    resource_version = _rv(event_obj) or resource_version
                    continue
                obj = None if kind == "DELETED" else event_obj
                resource_version = _rv(event_obj) or resource_version
                if on_change is not None:
                    on_change(obj)
                if predicate(obj):
                    return obj
                if time.monotonic() >= deadline:
                    break
        except KubeApiError as exc:
            if exc.status != 410:
                raise
            obj = kube.find(ref, name, namespace)  # history compacted: start over from the current state
            if predicate(obj):
                return obj
            resource_version = _rv(obj) or kube.list(ref, namespace, field_selector=f"metadata.name={name}")[1]
    state = summarize(obj) if obj is not None else "the object does not exist"
    raise WaitTimeout(f"timed out after {timeout:g}s waiting for {ref.describe(name, namespace)} to be {what}; "
                      f"last seen: {state}{recent_events(kube, ref, name, namespace)}",
                      f"inspect it with: kubectl describe {ref.describe(name, namespace)}")


def recent_events(kube: Kube, ref: ResourceRef, name: str, namespace: str | None, limit: int = 3) -> str:
    """'; events: FailedScheduling: 0/1 nodes ...' for the object's newest events ('' when none or unreadable)."""
    try:
        events, _ = kube.list(R.EVENT, namespace, field_selector=f"involvedObject.name={name},"
                                                                 f"involvedObject.kind={ref.kind}")
    except KslabError:
        return ""
    events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or
                                  (e.get("metadata") or {}).get("creationTimestamp") or ""))
    shown = [f"{e.get('reason')}: {e.get('message')}" for e in events[-limit:]]
    return f"; events: {' | '.join(shown)}" if shown else ""


def wait_for_list(kube: Kube, ref: ResourceRef, namespace: str | None, predicate: Callable[[list[Obj]], bool], *,
                  label_selector: str | None = None, timeout: float, what: str,
                  describe: Callable[[list[Obj]], str] | None = None) -> list[Obj]:
    """Return the matching objects once ``predicate(items)`` holds, following one list+watch."""
    deadline = time.monotonic() + timeout
    items, resource_version = kube.list(ref, namespace, label_selector=label_selector)
    current = {_key(o): o for o in items}
    while not predicate(list(current.values())):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            seen = describe(list(current.values())) if describe else f"{len(current)} matching"
            where = f" in namespace {namespace}" if namespace else ""
            selector = f" with labels {label_selector}" if label_selector else ""
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {ref.plural}{selector}{where} to be {what}; "
                              f"last seen: {seen}",
                              f"inspect them with: kubectl get {ref.plural}{' -n ' + namespace if namespace else ''}"
                              f"{' -l ' + label_selector if label_selector else ''}")
        try:
            for kind, obj in kube.watch(ref, namespace, label_selector=label_selector,
                                        resource_version=resource_version,
                                        timeout_seconds=max(1, int(remaining + 0.999))):
                resource_version = _rv(obj) or resource_version
                if kind == "DELETED":
                    current.pop(_key(obj), None)
                elif kind != "BOOKMARK":
                    current[_key(obj)] = obj
                if predicate(list(current.values())) or time.monotonic() >= deadline:
                    break
        except KubeApiError as exc:
            if exc.status != 410:
                raise
            items, resource_version = kube.list(ref, namespace, label_selector=label_selector)
            current = {_key(o): o for o in items}
    return list(current.values())


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def _rv(obj: Obj | None) -> str | None:
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")
