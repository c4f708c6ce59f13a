"""Server-side printing (``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``).

kubectl asks for Tables on ``get``; the real apiserver answers with the same columns it prints.
Columns here follow the real ones for pods, deployments, services, namespaces and KServe's
InferenceService (its CRD's additionalPrinterColumns); every other type gets NAME and AGE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .resources import ResourceType

Obj = dict[str, Any]
Column = tuple[str, str, str, Callable[[Obj], Any]]  # name, type, format, cell


def wanted(accept: str | None) -> bool:
    for media_range in (accept or "").split(","):
        params = dict(p.strip().split("=", 1) for p in media_range.split(";")[1:] if "=" in p)
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return True
        if media_range.split(";")[0].strip() in ("application/json", "*/*"):
            return False
    return False


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _age(obj: Obj) -> str:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return human_duration((dt.datetime.now(dt.UTC) - created).total_seconds())


def _get(obj: Any, *path: str) -> Any:
    for part in path:
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _condition(obj: Obj, kind: str) -> Any:
    for cond in _get(obj, "status", "conditions") or []:
        if cond.get("type") == kind:
            return cond.get("status")
    return None


def _traffic(obj: Obj, pick: Callable[[Obj], bool], key: str) -> Any:
    for target in _get(obj, "status", "components", "predictor", "traffic") or []:
        if pick(target):
            return target.get(key)
    return None


def _pod_status(pod: Obj) -> str:
    if _get(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    reason = _get(pod, "status", "reason") or _get(pod, "status", "phase") or "Pending"
    for cs in _get(pod, "status", "initContainerStatuses") or []:
        state = cs.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason") not in (None, "PodInitializing"):
            return f"Init:{state['waiting']['reason']}"
    for cs in _get(pod, "status", "containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
    return str(reason)


def _pod_ready(pod: Obj) -> str:
    statuses = _get(pod, "status", "containerStatuses") or []
    total = len(_get(pod, "spec", "containers") or [])
    return f"{sum(1 for cs in statuses if cs.get('ready'))}/{total}"


def _ports(svc: Obj) -> str:
    out = []
    for p in _get(svc, "spec", "ports") or []:
        text = f"{p.get('port')}"
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        out.append(f"{text}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


_NAME: Column = ("Name", "string", "name", lambda o: o["metadata"]["name"])
_AGE: Column = ("Age", "string", "", _age)
COLUMNS: dict[str, list[Column]] = {
    "/pods": [_NAME, ("Ready", "string", "", _pod_ready), ("Status", "string", "", _pod_status),
              ("Restarts", "string", "", lambda o: str(sum(cs.get("restartCount", 0) for cs in
                                                           _get(o, "status", "containerStatuses") or []))),
              _AGE],
    "apps/deployments": [_NAME, ("Ready", "string", "", lambda o: f"{_get(o, 'status', 'readyReplicas') or 0}/"
                                                                   f"{_get(o, 'spec', 'replicas') or 0}"),
                         ("Up-to-date", "integer", "", lambda o: _get(o, "status", "updatedReplicas") or 0),
                         ("Available", "integer", "", lambda o: _get(o, "status", "availableReplicas") or 0), _AGE],
    "/services": [_NAME, ("Type", "string", "", lambda o: _get(o, "spec", "type") or "ClusterIP"),
                  ("Cluster-IP", "string", "", lambda o: _get(o, "spec", "clusterIP") or "<none>"),
                  ("External-IP", "string", "", lambda o: _get(o, "spec", "externalName") or ",".join(
                      i.get("ip", "") for i in _get(o, "status", "loadBalancer", "ingress") or []) or "<none>"),
                  ("Port(s)", "string", "", _ports), _AGE],
    "/namespaces": [_NAME, ("Status", "string", "", lambda o: _get(o, "status", "phase") or "Active"), _AGE],
    "serving.kserve.io/inferenceservices": [
        _NAME, ("URL", "string", "", lambda o: _get(o, "status", "url")),
        ("Ready", "string", "", lambda o: _condition(o, "Ready")),
        ("Prev", "integer", "", lambda o: _traffic(o, lambda t: t.get("tag") == "prev", "percent")),
        ("Latest", "integer", "", lambda o: _traffic(o, lambda t: t.get("latestRevision") is True, "percent")),
        ("PrevRolledoutRevision", "string", "",
         lambda o: _traffic(o, lambda t: t.get("tag") == "prev", "revisionName")),
        ("LatestReadyRevision", "string", "",
         lambda o: _traffic(o, lambda t: t.get("latestRevision") is True, "revisionName")),
        _AGE],
}


def _row_object(obj: Obj, include: str | None) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    meta = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}


def table(rt: ResourceType, items: list[Obj], list_meta: Obj, include: str | None = None) -> Obj:
    columns = COLUMNS.get(rt.key, [_NAME, _AGE])
    rows = []
    for obj in items:
        row: Obj = {"cells": [cell(obj) for _, _, _, cell in columns]}
        row_obj = _row_object(obj, include)
        if row_obj is not None:
            row["object"] = row_obj
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_meta),
            "columnDefinitions": [{"name": n, "type": t, "format": f, "description": "", "priority": 0}
                                  for n, t, f, _ in columns],
            "rows": rows}
