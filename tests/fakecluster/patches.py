"""Patch algebra of the API server: JSON merge patch, JSON patch, strategic merge, server-side apply.

Strategic merge is approximated the way the issue allows: maps merge recursively, and lists whose
items are all maps carrying a merge key (``name`` for containers/env/ports-by-name, ``containerPort``,
``type`` for conditions) merge item by item; other lists are replaced. ``$patch: delete`` items and
``$retainKeys`` are not modelled.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError

MERGE_KEYS = ("name", "containerPort", "type", "port", "mountPath", "devicePath", "ip")


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def _merge_key(items: list[Any]) -> str | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in MERGE_KEYS:
        if all(key in i for i in items):
            return key
    return None


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Merge like JSON merge patch, but lists of keyed maps merge item by item."""
    if isinstance(patch, dict) and isinstance(target, dict):
        result = copy.deepcopy(target)
        for key, value in patch.items():
            if key.startswith("$"):
                continue
            if value is None:
                result.pop(key, None)
            else:
                result[key] = strategic_merge_patch(result.get(key), value)
        return result
    if isinstance(patch, list) and isinstance(target, list):
        key = _merge_key(patch)
        if key is not None and _merge_key(target) == key:
            merged = copy.deepcopy(target)
            index = {item[key]: pos for pos, item in enumerate(merged)}
            for item in patch:
                if item[key] in index:
                    merged[index[item[key]]] = strategic_merge_patch(merged[index[item[key]]], item)
                else:
                    merged.append(copy.deepcopy(item))
            return merged
    return copy.deepcopy(patch)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError.bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise KeyError(part)
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 (add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise ApiError.bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        try:
            doc = _apply_op(doc, op)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError.unprocessable_patch(f"the server rejected our request due to an error in our request: "
                                               f"op {op.get('op')!r} at {op.get('path')!r}: {exc}") from exc
    return doc


def _apply_op(doc: Any, op: dict[str, Any]) -> Any:
    kind = op["op"]
    parts = _pointer(op["path"])
    if kind == "test":
        if _resolve(doc, parts) != op["value"]:
            raise ValueError("test failed")
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_resolve(doc, _pointer(op["from"])))
        if kind == "move":
            doc = _apply_op(doc, {"op": "remove", "path": op["from"]})
        return _apply_op(doc, {"op": "add", "path": op["path"], "value": value})
    if not parts:
        if kind == "remove":
            return None
        return copy.deepcopy(op["value"])
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if kind == "add":
            parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(op["value"]))
        elif kind == "remove":
            del parent[int(last)]
        elif kind == "replace":
            parent[int(last)] = copy.deepcopy(op["value"])
    elif isinstance(parent, dict):
        if kind == "add":
            parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[last]
        elif kind == "replace":
            if last not in parent:
                raise KeyError(last)
            parent[last] = copy.deepcopy(op["value"])
    else:
        raise TypeError("path parent is not a container")
    if kind not in ("add", "remove", "replace"):
        raise ValueError(f"unknown op {kind}")
    return doc


def _prune(live: Any, previous: Any, current: Any) -> Any:
    """Remove from ``live`` the fields a manager applied before (``previous``) but no longer sets."""
    if not (isinstance(live, dict) and isinstance(previous, dict)):
        return live
    current = current if isinstance(current, dict) else {}
    out = dict(live)
    for key, prev_value in previous.items():
        if key not in current:
            out.pop(key, None)
        elif key in out:
            if isinstance(prev_value, list) and isinstance(out[key], list) and isinstance(current[key], list):
                mkey = _merge_key(prev_value)
                if mkey is not None and _merge_key(out[key]) == mkey:
                    keep = {i.get(mkey) for i in current[key] if isinstance(i, dict)}
                    out[key] = [i for i in out[key] if i.get(mkey) in keep or i.get(mkey) not in
                                {p.get(mkey) for p in prev_value}]
            else:
                out[key] = _prune(out[key], prev_value, current[key])
    return out


def server_side_apply(live: dict[str, Any] | None, previous: dict[str, Any] | None,
                      applied: dict[str, Any]) -> dict[str, Any]:
    """Merge an applied configuration into the live object.

    Approximates SSA field ownership with the manager's previous applied configuration: fields the
    manager set last time and has now dropped are removed; everything else merges strategically.
    """
    base = copy.deepcopy(live) if live is not None else {}
    if previous is not None:
        base = _prune(base, previous, applied)
    return strategic_merge_patch(base, applied)
