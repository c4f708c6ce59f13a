"""REST semantics for resource URLs: ``/api/v1/...`` and ``/apis/<group>/<version>/...``.

Turns one parsed request into store calls and returns a :class:`Response` (or a
:class:`~.watch.WatchRequest` that the HTTP layer streams). Covers list/get/create/replace/patch/
delete/deletecollection, the ``status`` and ``scale`` subresources, dryRun, list pagination,
selectors, Table output, and hands pod/service log and proxy subresources to :mod:`.node`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import node, patches, tables
from .errors import ApiError
from .resources import ResourceType, lookup
from .store import PATCH_TYPES, Store
from .watch import WatchRequest, query_bool

Obj = dict[str, Any]
# Registries that answer DELETE with the object rather than a Status (ReturnDeletedObject).
_RETURNS_OBJECT = {"/pods", "/services", "/namespaces", "apiextensions.k8s.io/customresourcedefinitions"}
_FIELDS = {  # field selectors the real apiserver supports beyond metadata.name / metadata.namespace
    "/pods": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
              "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
    "/events": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                "reason", "reportingComponent", "source", "type"},
    "/secrets": {"type"}, "/namespaces": {"status.phase"}, "/nodes": {"spec.unschedulable"},
    "apps/replicasets": {"status.replicas"}, "batch/jobs": {"status.successful"},
}


@dataclass
class Request:
    method: str
    path: str  # URL-decoded
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self, allow_yaml: bool = False) -> Any:
        if not self.body.strip():
            raise ApiError.bad_request("the request body is empty")
        try:
            return json.loads(self.body)
        except ValueError as exc:
            if allow_yaml:
                try:
                    return yaml.safe_load(self.body)
                except yaml.YAMLError:
                    pass
            raise ApiError.bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc

    def object(self) -> Any:
        """The body of a POST/PUT: JSON or YAML, like the apiserver's serializers (no protobuf here)."""
        if self.content_type in ("", "application/json", "*/*"):
            return self.json()
        if self.content_type == "application/yaml":
            try:
                return yaml.safe_load(self.body)
            except yaml.YAMLError as exc:
                raise ApiError.bad_request(f"error converting YAML to JSON: {exc}") from exc
        raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted "
                       f"media types include: application/json, application/yaml (got {self.content_type}; "
                       "the fake API server does not decode protobuf)")


@dataclass
class Response:
    status: int
    body: Any  # dict/list -> JSON; bytes -> as is
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _manager(req: Request) -> str:
    return req.query.get("fieldManager") or req.headers.get("user-agent", "unknown").split("/")[0] or "unknown"


def _check_fields(rt: ResourceType, selector: str | None) -> None:
    allowed = {"metadata.name", "metadata.namespace"} | _FIELDS.get(rt.key, set())
    for term in (selector or "").split(","):
        path = term.replace("!=", "=").replace("==", "=").split("=")[0].strip()
        if path and path not in allowed:
            raise ApiError.bad_request(f"field label not supported: {path}")


def _check_body(rt: ResourceType, namespace: str | None, obj: Any) -> Obj:
    if not isinstance(obj, dict):
        raise ApiError.bad_request(f"Object 'Kind' is missing in '{json.dumps(obj)[:200]}'")
    if obj.get("apiVersion") and obj["apiVersion"] != rt.api_version:
        raise ApiError.bad_request(f'the API version in the data ({obj["apiVersion"]}) does not match the expected '
                                   f"API version ({rt.api_version})")
    if obj.get("kind") and obj["kind"] != rt.kind:
        raise ApiError.bad_request(f'{obj["kind"]} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                   "kind mismatch")
    body_ns = (obj.get("metadata") or {}).get("namespace")
    if rt.namespaced and namespace and body_ns and body_ns != namespace:
        raise ApiError.bad_request("the namespace of the provided object does not match the namespace sent on "
                                   "the request")
    return obj


class ResourceHandler:
    """Serves the resource part of the URL space for one cluster."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster

    @property
    def store(self) -> Store:
        return self.cluster.store

    def _target(self, req: Request, rt: ResourceType, ns: str, name: str | None) -> Store:
        dry = req.query.get("dryRun")
        if dry and dry != "All":
            raise ApiError.bad_request(f'dryRun: Unsupported value: "{dry}": supported values: "All"')
        return self.store.scratch_copy(rt, ns, name) if dry else self.store

    def handle(self, req: Request, group: str, version: str, segments: list[str]) -> Response | WatchRequest:
        watch_prefix = bool(segments) and segments[0] == "watch"
        if watch_prefix:
            segments = segments[1:]
        ns = ""
        if len(segments) >= 3 and segments[0] == "namespaces" and not (
                len(segments) == 3 and segments[2] in ("status", "finalize")):
            ns, segments = segments[1], segments[2:]
        if not segments:
            raise _not_found()
        rt = lookup(group, version, segments[0])
        if rt is None or (ns and not rt.namespaced):
            raise _not_found()
        name = segments[1] if len(segments) > 1 else None
        sub = segments[2] if len(segments) > 2 else None
        if len(segments) > 3 and sub != "proxy":
            raise _not_found()
        if watch_prefix:
            req.query["watch"] = "true"
        if name is None:
            return self._collection(req, rt, ns)
        if sub is None:
            return self._object(req, rt, ns, name)
        return self._subresource(req, rt, ns, name, sub, "/".join(segments[3:]))

    # -- collections -------------------------------------------------------------------------------
    def _collection(self, req: Request, rt: ResourceType, ns: str) -> Response | WatchRequest:
        if req.method == "GET":
            _check_fields(rt, req.query.get("fieldSelector"))
            if query_bool(req.query.get("watch")):
                return WatchRequest(self.store, rt, ns, req.query)
            return self._list(req, rt, ns)
        if req.method == "POST":
            body = _check_body(rt, ns, req.object())
            warnings = self._field_validation(req, rt, body)
            store = self._target(req, rt, ns, (body.get("metadata") or {}).get("name"))
            created = store.create(rt, ns or None, body, manager=_manager(req))
            return Response(201, created, headers=warnings)
        if req.method == "DELETE":
            items, _ = self.store.list(rt, ns or None, req.query.get("labelSelector"), req.query.get("fieldSelector"))
            deleted = []
            for item in items:
                try:
                    deleted.append(self.store.delete(rt, item["metadata"].get("namespace"), item["metadata"]["name"]))
                except ApiError as exc:
                    if exc.code != 404:
                        raise
            return Response(200, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version,
                                  "metadata": {"resourceVersion": str(self.store.resource_version)},
                                  "items": deleted})
        raise ApiError.method_not_allowed()

    def _list(self, req: Request, rt: ResourceType, ns: str) -> Response:
        items, rv = self.store.list(rt, ns or None, req.query.get("labelSelector"), req.query.get("fieldSelector"))
        meta: Obj = {"resourceVersion": str(rv)}
        token = req.query.get("continue")
        if token:
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                start = tuple(state["start"])
                meta["resourceVersion"] = str(state["rv"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ApiError.bad_request(f"continue key is not valid: {exc}") from exc
            items = [i for i in items if (i["metadata"].get("namespace", ""), i["metadata"]["name"]) > start]
        limit = req.query.get("limit")
        if limit and limit.isdigit() and 0 < int(limit) < len(items):
            page, rest = items[: int(limit)], items[int(limit):]
            last = page[-1]["metadata"]
            state = {"rv": int(meta["resourceVersion"]), "start": [last.get("namespace", ""), last["name"]]}
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
            meta["remainingItemCount"] = len(rest)
            items = page
        if tables.wanted(req.headers.get("accept")):
            return Response(200, tables.table(rt, items, meta, req.query.get("includeObject")))
        return Response(200, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": meta,
                              "items": items})

    # -- single objects ------------------------------------------------------------------------------
    def _object(self, req: Request, rt: ResourceType, ns: str, name: str) -> Response:
        if req.method == "GET":
            obj = self.store.get(rt, ns, name)
            if tables.wanted(req.headers.get("accept")):
                return Response(200, tables.table(rt, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]},
                                                  req.query.get("includeObject")))
            return Response(200, obj)
        if req.method == "PUT":
            body = _check_body(rt, ns, req.object())
            warnings = self._field_validation(req, rt, body)
            return Response(200, self._target(req, rt, ns, name).replace(rt, ns, name, body, manager=_manager(req)),
                            headers=warnings)
        if req.method == "PATCH":
            return self._patch(req, rt, ns, name, None)
        if req.method == "DELETE":
            return self._delete(req, rt, ns, name)
        raise ApiError.method_not_allowed()

    def _patch(self, req: Request, rt: ResourceType, ns: str, name: str, sub: str | None) -> Response:
        kind = PATCH_TYPES.get(req.content_type)
        if kind is None or (kind == "strategic" and rt.is_custom):
            raise ApiError.unsupported_media_type(req.content_type)
        body = req.json(allow_yaml=kind == "apply")
        force = query_bool(req.query.get("force"))
        if force and kind != "apply":
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be '
                           "specified for non-apply patch")
        manager = req.query.get("fieldManager") or (None if kind == "apply" else _manager(req))
        warnings: dict[str, str] = {}
        if kind == "apply" and sub is None:
            typed_error = self.cluster.crds.apply_errors(rt, ns, name, body)
            if typed_error is not None:
                raise typed_error
        elif kind == "merge" and sub is None:
            warnings = self._field_validation(req, rt, body)
        obj, created = self._target(req, rt, ns, name).patch(rt, ns, name, req.content_type, body,
                                                             field_manager=manager, force=force, subresource=sub)
        return Response(201 if created else 200, obj, headers=warnings)

    def _field_validation(self, req: Request, rt: ResourceType, body: Any) -> dict[str, str]:
        """Unknown fields of a custom resource body per ``fieldValidation`` (crd_validation.py): Strict -> 400,
        Warn (the default) -> one Warning header entry per field, Ignore -> nothing; the store prunes them."""
        directive = req.query.get("fieldValidation") or "Warn"
        unknown = [] if directive == "Ignore" else self.cluster.crds.unknown_fields(rt, body)
        if not unknown:
            return {}
        listed = [f'unknown field "{path}"' for path in unknown]
        if directive == "Strict":
            raise ApiError.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                       f"strict decoding error: {', '.join(listed)}")
        return {"Warning": ", ".join(f"299 - {json.dumps(text)}" for text in listed)}

    def _delete(self, req: Request, rt: ResourceType, ns: str, name: str) -> Response:
        options: Obj = req.json() if req.body.strip() else dict(req.query)
        policy = options.get("propagationPolicy") or "Background"
        if policy not in ("Background", "Foreground", "Orphan"):
            raise ApiError(422, "Invalid", f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
                           f'Unsupported value: "{policy}": supported values: "Foreground", "Background", '
                           '"Orphan", "nil"')
        if options.get("orphanDependents") is True or query_bool(str(options.get("orphanDependents"))):
            policy = "Orphan"
        store = self.store
        if options.get("dryRun") or req.query.get("dryRun"):
            store = self.store.scratch_copy(rt, ns, name)
        pre = options.get("preconditions") or {}
        if pre:
            live = store.get(rt, ns, name)
            for key in ("uid", "resourceVersion"):
                if pre.get(key) and pre[key] != live["metadata"].get(key):
                    raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rt.plural} "{name}": '
                                   f"Precondition failed: {key.upper() if key == 'uid' else 'ResourceVersion'} in "
                                   f"precondition: {pre[key]}, {key.upper() if key == 'uid' else 'ResourceVersion'}"
                                   f" in object meta: {live['metadata'].get(key)}")
        obj = store.delete(rt, ns, name, policy)
        still_there = store.find(rt, ns, name) is not None
        if still_there or rt.is_custom or rt.key in _RETURNS_OBJECT:
            return Response(200, obj)
        return Response(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": {"name": name, "group": rt.group, "kind": rt.plural,
                                          "uid": obj["metadata"].get("uid")}})

    # -- subresources --------------------------------------------------------------------------------
    def _subresource(self, req: Request, rt: ResourceType, ns: str, name: str, sub: str, rest: str) -> Response:
        if sub == "status" and rt.has_status:
            if req.method == "GET":
                return Response(200, self.store.get(rt, ns, name))
            if req.method == "PUT":
                body = _check_body(rt, ns, req.object())
                return Response(200, self._target(req, rt, ns, name).replace(rt, ns, name, body, subresource="status",
                                                                             manager=_manager(req)))
            if req.method == "PATCH":
                return self._patch(req, rt, ns, name, "status")
            raise ApiError.method_not_allowed()
        if sub == "scale" and "scale" in rt.extra_subresources:
            return self._scale(req, rt, ns, name)
        cluster_node = self.cluster.node
        if rt.key == "/pods" and sub == "log" and req.method == "GET":
            reply = node.pod_log(self.store, cluster_node, ns, name, req.query)
            return Response(reply.status, reply.body, reply.content_type)
        if sub == "proxy" and rt.key in ("/pods", "/services"):
            forward = node.pod_proxy if rt.key == "/pods" else node.service_proxy
            reply = forward(self.store, cluster_node, ns, name, req.method, rest, req.raw_query,
                            req.body or None, req.headers)
            return Response(reply.status, reply.body, reply.content_type)
        if rt.key == "/pods" and sub in ("portforward", "exec", "attach"):
            self.store.get(rt, ns, name)
            raise node.upgrade_required()
        raise _not_found()

    def _scale(self, req: Request, rt: ResourceType, ns: str, name: str) -> Response:
        obj = self.store.get(rt, ns, name)
        scale = _scale_of(obj)
        if req.method == "GET":
            return Response(200, scale)
        if req.method == "PUT":
            new = req.object()
        elif req.method == "PATCH":
            kind = PATCH_TYPES.get(req.content_type)
            body = req.json(allow_yaml=kind == "apply")
            if kind == "json":
                new = patches.json_patch(scale, body)
            elif kind in ("merge", "apply"):
                new = patches.json_merge_patch(scale, body)
            elif kind == "strategic":
                new = patches.strategic_merge_patch(scale, body)
            else:
                raise ApiError.unsupported_media_type(req.content_type)
        else:
            raise ApiError.method_not_allowed()
        replicas = (new.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError.invalid("Scale", "autoscaling", name, "spec.replicas",
                                   f"Invalid value: {replicas}: must be greater than or equal to 0")
        change: Obj = {"spec": {"replicas": replicas}}
        sent_rv = (new.get("metadata") or {}).get("resourceVersion")
        if req.method == "PUT" and sent_rv:
            change["metadata"] = {"resourceVersion": sent_rv}
        updated, _ = self._target(req, rt, ns, name).patch(rt, ns, name, "application/merge-patch+json", change,
                                                           field_manager=_manager(req))
        return Response(200, _scale_of(updated))


def _scale_of(obj: Obj) -> Obj:
    meta = obj["metadata"]
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items()))}}


def _not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})
