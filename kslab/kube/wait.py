"""Watch-based waits: react to the event that makes a predicate true, give up at a deadline.

The object is read once, then a watch continues from its resourceVersion; a stream that ends is
resumed, a 410 Gone re-reads the object. On timeout a WaitTimeout names the object, what was awaited
and the last conditions seen, so the user knows where it stuck.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kslab.errors import WaitTimeout
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
                      f"last seen: {state}", f"inspect it with: kubectl describe {ref.describe(name, namespace)}")


def _rv(obj: Obj | None) -> str | None:
    return ((obj or {}).get("metadata") or {}).get("resourceVersion")
