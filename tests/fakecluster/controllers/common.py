"""Small helpers every simulated controller uses: quantities, names, ownership, create-or-update."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections.abc import Iterable
from typing import Any

from ..errors import ApiError
from ..resources import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, ResourceType
from ..store import Store, owner_reference

Obj = dict[str, Any]

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated name suffixes
_HASH_ALPHABET = "bcdf2456789"  # chars that are both hex digits and in SAFE_ALPHABET


_CPU_SUFFIX = {"m": 1, "": 1000}
_MEM_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9,
               "T": 10**12, "": 1}


def cpu_millis(quantity: object) -> int:
    """'250m' -> 250, '1' -> 1000, 0.5 -> 500."""
    if quantity is None or quantity == "":
        return 0
    text = str(quantity).strip()
    if text.endswith("m"):
        return int(float(text[:-1]))
    return round(float(text) * 1000)


def memory_bytes(quantity: object) -> int:
    if quantity is None or quantity == "":
        return 0
    text = str(quantity).strip()
    for suffix in ("Ki", "Mi", "Gi", "Ti", "k", "K", "M", "G", "T"):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * _MEM_SUFFIX[suffix])
    return int(float(text))


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(length))


def template_hash(template: object) -> str:
    """10 characters derived from a pod template (hex digits that are also in Kubernetes' safe alphabet)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_HASH_ALPHABET[b % len(_HASH_ALPHABET)] for b in digest[:10])


def meta(obj: Obj) -> Obj:
    return obj.setdefault("metadata", {})


def name_of(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def annotations_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def selector_string(match_labels: dict[str, str] | None) -> str:
    """matchLabels -> 'a=b,c=d' (empty selector matches everything)."""
    return ",".join(f"{k}={v}" for k, v in sorted((match_labels or {}).items()))


def owners(obj: Obj, kind: str | None = None) -> list[Obj]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [r for r in refs if kind is None or r.get("kind") == kind]


def owner_requests(obj: Obj, kind: str) -> list[tuple[str, str]]:
    """(namespace, owner name) for each ownerReference of ``kind`` (the owner lives in the same namespace)."""
    ns = (obj.get("metadata") or {}).get("namespace", "")
    return [(ns, str(r["name"])) for r in owners(obj, kind)]


def is_owned_by(obj: Obj, owner: Obj) -> bool:
    uid = owner["metadata"]["uid"]
    return any(r.get("uid") == uid for r in owners(obj))


def is_deleting(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def find_condition(obj: Obj, ctype: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def deployment_available(dep: Obj | None) -> bool:
    if dep is None:
        return False
    cond = find_condition(dep, "Available")
    return bool(cond and cond.get("status") == "True")


def find_deployment(store: Store, namespace: str | None, name: str) -> Obj | None:
    """The named Deployment in ``namespace``, or in any namespace when ``namespace`` is None."""
    if namespace is not None:
        return store.find(DEPLOYMENTS, namespace, name)
    items, _ = store.list(DEPLOYMENTS, field_selector=f"metadata.name={name}")
    return items[0] if items else None


def namespace_exists(store: Store, namespace: str) -> bool:
    return store.find(NAMESPACES, None, namespace) is not None


def configmap_data(store: Store, namespace: str, name: str) -> dict[str, str] | None:
    cm = store.find(CONFIGMAPS, namespace, name)
    return None if cm is None else dict(cm.get("data") or {})


def with_owner(obj: Obj, owner: Obj | None) -> Obj:
    if owner is not None:
        meta(obj)["ownerReferences"] = [owner_reference(owner)]
    return obj


def ensure(store: Store, rt: ResourceType, namespace: str | None, desired: Obj, *, owner: Obj | None = None,
           fields: Iterable[str] = ("spec",), manager: str = "fake-controller", keep_status: bool = True,
           replace: bool = False) -> Obj:
    """Create ``desired`` or bring the live object's labels, annotations and ``fields`` in line with it.

    Labels are replaced; annotations are merged (other writers' annotations survive); each field in
    ``fields`` is overlaid key by key at its top level, so server-assigned keys (a Service's clusterIP)
    stay, or replaced wholesale with ``replace=True``. Returns the live object.
    """
    desired = with_owner(copy.deepcopy(desired), owner)
    name = desired["metadata"]["name"]
    live = store.find(rt, namespace, name)
    if live is None:
        try:
            return store.create(rt, namespace, desired, manager=manager, keep_status=keep_status)
        except ApiError as err:
            if err.code != 409:
                raise
            live = store.get(rt, namespace, name)

    def change(obj: Obj) -> None:
        m = meta(obj)
        if "labels" in desired["metadata"]:
            m["labels"] = dict(desired["metadata"]["labels"])
        if desired["metadata"].get("annotations"):
            m["annotations"] = {**(m.get("annotations") or {}), **desired["metadata"]["annotations"]}
        if owner is not None and not owners(obj):
            m["ownerReferences"] = [owner_reference(owner)]
        for fname in fields:
            if fname not in desired:
                continue
            value = desired[fname]
            if not replace and isinstance(value, dict) and isinstance(obj.get(fname), dict):
                merged = dict(obj[fname])
                merged.update(copy.deepcopy(value))
                obj[fname] = merged
            else:
                obj[fname] = copy.deepcopy(value)

    preview = copy.deepcopy(live)
    change(preview)
    if preview == live:
        return live
    return store.mutate(rt, namespace, name, change, manager=manager) or live


def set_status(store: Store, rt: ResourceType, current: Obj, status: Obj, manager: str = "fake-controller"
               ) -> Obj | None:
    """Replace the status subresource of ``current``; skipped when it already has exactly this status."""
    if current.get("status") == status:
        return current
    def change(obj: Obj) -> None:
        obj["status"] = copy.deepcopy(status)
    md = current["metadata"]
    return store.mutate(rt, md.get("namespace"), md["name"], change, subresource="status", manager=manager)


def delete_quietly(store: Store, rt: ResourceType, namespace: str | None, name: str) -> None:
    try:
        store.delete(rt, namespace, name)
    except ApiError as err:
        if err.code != 404:
            raise
