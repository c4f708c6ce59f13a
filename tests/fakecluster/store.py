"""In-memory object store with the apiserver's bookkeeping and an event log for watches.

Owns: uid / creationTimestamp / resourceVersion / generation, namespace existence, status
subresource separation, optimistic concurrency (409 on stale resourceVersion), finalizers and
deletionTimestamp, ownerReference garbage collection, admission hooks (stand-ins for webhooks),
and a bounded event history so a watch from a too-old resourceVersion gets 410 Gone.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import admission, patches
from .admission import Admission
from .errors import ApiError
from .resources import RESOURCES, ResourceType, by_key
from .selectors import field_predicate, label_predicate

Obj = dict[str, Any]

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",  # not a real apiserver type; accepted for lenient clients
}


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    type: str  # ADDED | MODIFIED | DELETED
    key: str  # resource key '<group>/<plural>'
    namespace: str
    object: Obj
    rv: int


class Store:
    """Thread-safe object store; every write bumps one global resourceVersion and logs an event."""

    def __init__(self, history: int = 2000) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._objects: dict[tuple[str, str, str], Obj] = {}
        self._applied: dict[tuple[str, str, str, str], Obj] = {}
        self._events: deque[Event] = deque(maxlen=history)
        self._rv = 100
        self._oldest_rv = self._rv
        self.admission: list[Admission] = []

    # -- bookkeeping -------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def oldest_resource_version(self) -> int:
        """The oldest resourceVersion a watch can still start from (older ones get 410 Gone)."""
        return self._oldest_rv

    def scratch_copy(self, rt: ResourceType, namespace: str, name: str | None) -> Store:
        """A throwaway store with copies of what one request can touch, for dryRun (never persisted)."""
        with self._lock:
            scratch = Store(history=16)
            scratch._rv = self._rv
            scratch.admission = list(self.admission)
            for key in (("/namespaces", "", namespace), (rt.key, namespace, name or "")):
                if key in self._objects:
                    scratch._objects[key] = copy.deepcopy(self._objects[key])
            scratch._applied = {k: copy.deepcopy(v) for k, v in self._applied.items()
                                if k[:3] == (rt.key, namespace, name)}
            return scratch

    def _bump(self) -> int:
        self._rv += 1
        return self._rv

    def _emit(self, kind: str, rt: ResourceType, obj: Obj) -> None:
        if len(self._events) == self._events.maxlen:
            self._oldest_rv = self._events[0].rv
        self._events.append(Event(kind, rt.key, obj["metadata"].get("namespace", ""), copy.deepcopy(obj),
                                  int(obj["metadata"]["resourceVersion"])))
        self._changed.notify_all()

    def compact(self) -> None:
        """Forget all history (a watch from any earlier resourceVersion now gets 410 Gone)."""
        with self._lock:
            self._events.clear()
            self._oldest_rv = self._rv

    def events_since(self, rv: int, key: str | None = None, namespace: str | None = None) -> list[Event]:
        """Events after ``rv``; raises 410 Gone when that part of the history was compacted away."""
        with self._lock:
            if rv < self._oldest_rv:
                raise ApiError.gone(f"too old resource version: {rv} ({self._oldest_rv})")
            return [e for e in self._events if e.rv > rv and (key is None or e.key == key)
                    and (not namespace or e.namespace == namespace)]

    def wait_for_change(self, rv: int, timeout: float) -> bool:
        """Block until the store moves past ``rv`` or ``timeout`` passes; True if it moved."""
        with self._lock:
            return self._changed.wait_for(lambda: self._rv > rv, timeout=timeout)

    # -- reads -------------------------------------------------------------------------------
    @staticmethod
    def _ns(rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "") if rt.namespaced else ""

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> Obj:
        with self._lock:
            obj = self._objects.get((rt.key, self._ns(rt, namespace), name))
            if obj is None:
                raise ApiError.not_found(rt.group, rt.plural, name)
            return copy.deepcopy(obj)

    def find(self, rt: ResourceType, namespace: str | None, name: str) -> Obj | None:
        try:
            return self.get(rt, namespace, name)
        except ApiError:
            return None

    def list(self, rt: ResourceType, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[Obj], int]:
        by_label, by_field = label_predicate(label_selector), field_predicate(field_selector)
        with self._lock:
            items = [copy.deepcopy(o) for (key, ns, _), o in sorted(self._objects.items())
                     if key == rt.key and (not namespace or ns == namespace) and by_label(o) and by_field(o)]
            return items, self._rv

    # -- writes ------------------------------------------------------------------------------
    def _admit(self, op: str, rt: ResourceType, obj: Obj, old: Obj | None) -> Obj:
        return admission.run(list(self.admission), op, rt, obj, old)  # phase order: admission.py

    def _validate_name(self, rt: ResourceType, obj: Obj) -> str:
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["generateName"] + uuid.uuid4().hex[:5]
            meta["name"] = name
        if not name:
            raise ApiError.invalid(rt.kind, rt.group, "", "metadata.name",
                                   "Required value: name or generateName is required")
        if len(name) > 253 or not _NAME_RE.match(name):
            raise ApiError.invalid(rt.kind, rt.group, name, "metadata.name",
                                   f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                                   "case alphanumeric characters, '-' or '.', and must start and end with an "
                                   "alphanumeric character")
        return name

    def _require_namespace(self, rt: ResourceType, namespace: str) -> None:
        if not rt.namespaced:
            return
        if not namespace:
            raise ApiError.bad_request("the namespace of the provided object does not match the namespace sent "
                                       "on the request")
        if ("/namespaces", "", namespace) not in self._objects:
            raise ApiError.not_found("", "namespaces", namespace)

    def create(self, rt: ResourceType, namespace: str | None, obj: Obj, *, manager: str | None = None,
               keep_status: bool = False) -> Obj:
        """POST. ``keep_status`` is for simulated controllers only (the HTTP path drops status)."""
        obj = copy.deepcopy(obj)
        with self._lock:
            ns = self._ns(rt, namespace or obj.get("metadata", {}).get("namespace"))
            name = self._validate_name(rt, obj)
            self._require_namespace(rt, ns)
            if (rt.key, ns, name) in self._objects:
                raise ApiError.already_exists(rt.group, rt.plural, name)
            meta = obj["metadata"]
            if rt.namespaced:
                meta["namespace"] = ns
            else:
                meta.pop("namespace", None)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            if rt.has_status and not keep_status:
                obj.pop("status", None)
            for drop in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "managedFields"):
                meta.pop(drop, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta["generation"] = 1
            obj = self._admit("CREATE", rt, obj, None)
            meta = obj["metadata"]  # a hook may return a new object
            self._set_managed(obj, manager or "unknown", "Update")
            if rt.key == "/namespaces":
                obj.setdefault("status", {})["phase"] = "Active"
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            meta["resourceVersion"] = str(self._bump())
            self._objects[(rt.key, ns, name)] = obj
            self._emit("ADDED", rt, obj)
            return copy.deepcopy(obj)

    def _set_managed(self, obj: Obj, manager: str, operation: str) -> None:
        entries = [e for e in obj["metadata"].get("managedFields", [])
                   if not (e.get("manager") == manager and e.get("operation") == operation)]
        entries.append({"manager": manager, "operation": operation, "apiVersion": obj.get("apiVersion"),
                        "time": now_rfc3339(), "fieldsType": "FieldsV1", "fieldsV1": {}})
        obj["metadata"]["managedFields"] = entries

    def _write(self, rt: ResourceType, ns: str, name: str, new: Obj, *, subresource: str | None,
               manager: str, operation: str = "Update", check_rv: bool = True) -> Obj:
        """Store ``new`` over the live object with all update semantics. Caller holds the lock."""
        old = self._objects.get((rt.key, ns, name))
        if old is None:
            raise ApiError.not_found(rt.group, rt.plural, name)
        new = copy.deepcopy(new)
        new_meta = new.setdefault("metadata", {})
        sent_rv = new_meta.get("resourceVersion")
        if check_rv and sent_rv and sent_rv != old["metadata"]["resourceVersion"]:
            raise ApiError.conflict(rt.group, rt.plural, name)
        if new_meta.get("name", name) != name:
            raise ApiError.bad_request(f'the name of the object ({new_meta.get("name")}) does not match the name '
                                       f"on the URL ({name})")
        if subresource == "status":
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status")
            if merged["status"] is None:
                merged.pop("status")
        else:
            merged = new
            merged["apiVersion"], merged["kind"] = rt.api_version, rt.kind
            if rt.has_status:
                if "status" in old:
                    merged["status"] = copy.deepcopy(old["status"])
                else:
                    merged.pop("status", None)
            meta = merged["metadata"]
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = ns
            for keep in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "managedFields"):
                if keep in old["metadata"]:
                    meta[keep] = old["metadata"][keep]
                else:
                    meta.pop(keep, None)
            merged = self._admit("UPDATE", rt, merged, copy.deepcopy(old))
            meta = merged["metadata"]  # a hook may return a new object
            if _spec_of(merged) != _spec_of(old):
                meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        self._set_managed(merged, manager, operation)
        if _same_content(merged, old):
            return copy.deepcopy(old)  # a no-op write does not bump resourceVersion (kubectl "no change")
        merged["metadata"]["resourceVersion"] = str(self._bump())
        self._objects[(rt.key, ns, name)] = merged
        if merged["metadata"].get("deletionTimestamp") and not merged["metadata"].get("finalizers"):
            self._remove(rt, ns, name, "Background")
            return copy.deepcopy(merged)
        self._emit("MODIFIED", rt, merged)
        return copy.deepcopy(merged)

    def replace(self, rt: ResourceType, namespace: str | None, name: str, obj: Obj, *,
                subresource: str | None = None, manager: str = "unknown") -> Obj:
        """PUT on the object or its status subresource."""
        with self._lock:
            return self._write(rt, self._ns(rt, namespace), name, obj, subresource=subresource, manager=manager)

    def patch(self, rt: ResourceType, namespace: str | None, name: str, content_type: str, body: Any, *,
              field_manager: str | None = None, force: bool = False, subresource: str | None = None
              ) -> tuple[Obj, bool]:
        """PATCH of any supported type; returns (object, created). Apply creates when missing."""
        kind = PATCH_TYPES.get(content_type.split(";")[0].strip())
        if kind is None or (kind == "strategic" and rt.is_custom):
            raise ApiError.unsupported_media_type(content_type)
        ns = self._ns(rt, namespace)
        with self._lock:
            live = self._objects.get((rt.key, ns, name))
            if kind == "apply":
                if not field_manager:
                    raise ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                                   "Required value: is required for apply patch")
                if not isinstance(body, dict):
                    raise ApiError.bad_request("apply patch body must be an object")
                applied_key = (rt.key, ns, name, field_manager)
                if live is None:
                    if subresource:
                        raise ApiError.not_found(rt.group, rt.plural, name)
                    created = self.create(rt, ns, body, manager=field_manager)
                    self._applied[applied_key] = copy.deepcopy(body)
                    return created, True
                merged = patches.server_side_apply(live, self._applied.get(applied_key), body)
                merged["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
                result = self._write(rt, ns, name, merged, subresource=subresource, manager=field_manager,
                                     operation="Apply")
                self._applied[applied_key] = copy.deepcopy(body)
                return result, False
            if live is None:
                raise ApiError.not_found(rt.group, rt.plural, name)
            if kind == "merge":
                if not isinstance(body, dict):
                    raise ApiError.bad_request("merge patch body must be a JSON object")
                merged = patches.json_merge_patch(live, body)
            elif kind == "strategic":
                merged = patches.strategic_merge_patch(live, body)
            else:
                merged = patches.json_patch(live, body)
            if not (isinstance(body, dict) and (body.get("metadata") or {}).get("resourceVersion")):
                merged.setdefault("metadata", {})["resourceVersion"] = live["metadata"]["resourceVersion"]
            return self._write(rt, ns, name, merged, subresource=subresource,
                               manager=field_manager or "unknown"), False

    def mutate(self, rt: ResourceType, namespace: str | None, name: str, change: Callable[[Obj], None], *,
               subresource: str | None = None, manager: str = "fake-controller") -> Obj | None:
        """Read-modify-write under the lock (controllers' shortcut); None if the object is gone."""
        with self._lock:
            ns = self._ns(rt, namespace)
            live = self._objects.get((rt.key, ns, name))
            if live is None:
                return None
            work = copy.deepcopy(live)
            change(work)
            return self._write(rt, ns, name, work, subresource=subresource, manager=manager, check_rv=False)

    def delete(self, rt: ResourceType, namespace: str | None, name: str, propagation: str = "Background") -> Obj:
        with self._lock:
            ns = self._ns(rt, namespace)
            live = self._objects.get((rt.key, ns, name))
            if live is None:
                raise ApiError.not_found(rt.group, rt.plural, name)
            self._admit("DELETE", rt, copy.deepcopy(live), copy.deepcopy(live))
            if live["metadata"].get("finalizers"):
                if not live["metadata"].get("deletionTimestamp"):
                    live["metadata"]["deletionTimestamp"] = now_rfc3339()
                    live["metadata"]["deletionGracePeriodSeconds"] = 0
                    live["metadata"]["resourceVersion"] = str(self._bump())
                    self._emit("MODIFIED", rt, live)
                return copy.deepcopy(live)
            return self._remove(rt, ns, name, propagation)

    def _remove(self, rt: ResourceType, ns: str, name: str, propagation: str) -> Obj:
        obj = self._objects.pop((rt.key, ns, name))
        for applied_key in [k for k in self._applied if k[:3] == (rt.key, ns, name)]:
            del self._applied[applied_key]
        obj["metadata"]["resourceVersion"] = str(self._bump())
        obj["metadata"].setdefault("deletionTimestamp", now_rfc3339())
        self._emit("DELETED", rt, obj)
        if rt.key == "/namespaces":
            for key, obj_ns, obj_name in [k for k in self._objects if k[1] == name]:
                self._remove(by_key(key), obj_ns, obj_name, "Background")
        self._collect_dependents(obj["metadata"]["uid"], propagation)
        return copy.deepcopy(obj)

    def _collect_dependents(self, owner_uid: str, propagation: str) -> None:
        """Garbage-collect (or orphan) objects whose ownerReferences point at ``owner_uid``."""
        for (key, ns, name), obj in list(self._objects.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if not any(r.get("uid") == owner_uid for r in refs):
                continue
            if (key, ns, name) not in self._objects:
                continue
            rt = by_key(key)
            if propagation == "Orphan":
                obj["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != owner_uid]
                obj["metadata"]["resourceVersion"] = str(self._bump())
                self._emit("MODIFIED", rt, obj)
            else:
                self._remove(rt, ns, name, propagation)

    def reset(self) -> None:
        """Drop everything (between tests) but keep the resourceVersion counter monotonic."""
        with self._lock:
            self._objects.clear()
            self._applied.clear()
            self.compact()


def _spec_of(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _same_content(a: Obj, b: Obj) -> bool:
    def strip(o: Obj) -> Obj:
        o = copy.deepcopy(o)
        o["metadata"].pop("resourceVersion", None)
        o["metadata"].pop("managedFields", None)
        return o
    return strip(a) == strip(b)


def owner_reference(owner: Obj, controller: bool = True) -> Obj:
    """An ownerReference entry pointing at ``owner``."""
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": controller, "blockOwnerDeletion": True}


__all__ = ["PATCH_TYPES", "RESOURCES", "Admission", "Event", "Store", "now_rfc3339", "owner_reference"]
