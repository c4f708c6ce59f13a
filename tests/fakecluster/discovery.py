"""Discovery and OpenAPI documents, generated from the resource table.

Serves ``/version``, legacy discovery (``/api``, ``/api/v1``, ``/apis``, ``/apis/<g>``, ``/apis/<g>/<v>``),
aggregated discovery (``apidiscovery.k8s.io/v2``, only when the Accept header asks for it) and the
OpenAPI v3 index plus one document per group-version. The OpenAPI documents carry just what kubectl
reads: a PATCH operation per resource with ``x-kubernetes-group-version-kind`` and the
``fieldValidation`` query parameter (no schemas, so kubectl validates on the server side).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .resources import ALL_VERBS, RESOURCES, ResourceType, group_versions

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
_SUBRESOURCE_INFO = {  # name -> (group, version, kind, verbs); kind None means the parent's kind
    "status": (None, None, None, ("get", "patch", "update")),
    "scale": ("autoscaling", "v1", "Scale", ("get", "patch", "update")),
    "log": ("", "v1", "Pod", ("get",)),
    "proxy": (None, None, None, ("create", "delete", "get", "patch", "update")),
    "portforward": ("", "v1", "PodPortForwardOptions", ("create", "get")),
    "exec": ("", "v1", "PodExecOptions", ("create", "get")),
}
_PROXY_KINDS = {"pods": "PodProxyOptions", "services": "ServiceProxyOptions", "nodes": "NodeProxyOptions"}
# Built-in types the real apiserver puts in the "all" category (`kubectl get all`).
_BUILTIN_ALL = {"/pods", "/services", "apps/deployments", "apps/replicasets", "batch/jobs",
                "autoscaling/horizontalpodautoscalers"}


def categories(rt: ResourceType) -> list[str]:
    extra = ("all",) if rt.key in _BUILTIN_ALL and "all" not in rt.categories else ()
    return [*rt.categories, *extra]


def version_info(git_version: str) -> dict[str, Any]:
    match = re.match(r"v?(\d+)\.(\d+)", git_version)
    major, minor = (match.group(1), match.group(2)) if match else ("1", "0")
    return {
        "major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
        "minCompatibilityMajor": major, "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": git_version, "gitCommit": "0" * 40, "gitTreeState": "clean",
        "buildDate": "2025-08-27T00:00:00Z", "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64",
    }


def _subresources(rt: ResourceType) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """(name, group, version, kind, verbs) for every subresource of ``rt``."""
    names = (("status",) if rt.has_status else ()) + rt.extra_subresources
    out = []
    for name in names:
        group, version, kind, verbs = _SUBRESOURCE_INFO.get(name, (None, None, None, ("get",)))
        if name == "proxy":
            group, version, kind = "", "v1", _PROXY_KINDS.get(rt.plural, "ProxyOptions")
        out.append((name, rt.group if group is None else group, version or rt.version, kind or rt.kind, verbs))
    return out


def _types(group: str, version: str) -> list[ResourceType]:
    return [rt for rt in RESOURCES if rt.group == group and rt.version == version]


# -- legacy discovery ------------------------------------------------------------------------------
def api_versions() -> dict[str, Any]:
    return {"kind": "APIVersions", "apiVersion": "v1", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}


def _api_group(group: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict[str, Any]:
    groups = [_api_group(g, vs) for g, vs in group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    versions = group_versions().get(group)
    return _api_group(group, versions) if group and versions else None


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    types = _types(group, version)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in types:
        entry: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                                 "kind": rt.kind, "verbs": list(ALL_VERBS)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if categories(rt):
            entry["categories"] = categories(rt)
        resources.append(entry)
        for name, sub_group, sub_version, kind, verbs in _subresources(rt):
            sub: dict[str, Any] = {"name": f"{rt.plural}/{name}", "singularName": "", "namespaced": rt.namespaced,
                                   "kind": kind, "verbs": list(verbs)}
            if (sub_group, sub_version) != (rt.group, rt.version):
                sub["group"], sub["version"] = sub_group, sub_version
            resources.append(sub)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


# -- aggregated discovery --------------------------------------------------------------------------
def wants_aggregated(accept: str | None) -> bool:
    """True when the first acceptable media range of ``accept`` is the v2 aggregated document."""
    for media_range in (accept or "").split(","):
        parts = [p.strip() for p in media_range.split(";")]
        media = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if media == "application/json" and params.get("as") == "APIGroupDiscoveryList":
            if params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2":
                return True
            continue  # another version of the aggregated format: not served, try the next range
        if media in ("application/json", "*/*", "application/*"):
            return False
    return False


def _aggregated_resource(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rt.plural, "singularResource": rt.singular,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster", "verbs": list(ALL_VERBS),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if categories(rt):
        entry["categories"] = categories(rt)
    subs = [{"subresource": name, "responseKind": {"group": g, "version": v, "kind": k}, "verbs": list(verbs)}
            for name, g, v, k, verbs in _subresources(rt)]
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(core: bool) -> dict[str, Any]:
    """``/api`` (core=True) or ``/apis`` as an APIGroupDiscoveryList."""
    items = []
    for group, versions in group_versions().items():
        if (group == "") != core:
            continue
        items.append({
            "metadata": {"name": group, "creationTimestamp": None},
            "versions": [{"version": v, "resources": [_aggregated_resource(rt) for rt in _types(group, v)],
                          "freshness": "Current"} for v in versions],
        })
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


# -- OpenAPI v3 ------------------------------------------------------------------------------------
def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_document(group: str, version: str) -> dict[str, Any] | None:
    types = _types(group, version)
    if not types:
        return None
    paths: dict[str, Any] = {}
    for rt in types:
        base = "/" + _gv_path(rt.group, rt.version)
        prefix = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        patch_types = ["application/json-patch+json", "application/merge-patch+json"]
        if not rt.is_custom:
            patch_types.append("application/strategic-merge-patch+json")
        patch_types.append("application/apply-patch+yaml")
        params = [{"name": p, "in": "query", "schema": {"type": "string" if p != "force" else "boolean"},
                   "uniqueItems": True} for p in ("dryRun", "fieldManager", "fieldValidation", "force")]
        body = {"content": {t: {"schema": {"type": "object"}} for t in patch_types}, "required": True}
        ok = {"200": {"description": "OK"}, "201": {"description": "Created"}}
        item = {
            "get": {"operationId": f"read{rt.kind}", "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk, "responses": ok},
            "put": {"operationId": f"replace{rt.kind}", "x-kubernetes-action": "put",
                    "x-kubernetes-group-version-kind": gvk, "parameters": params[:3], "responses": ok},
            "patch": {"operationId": f"patch{rt.kind}", "x-kubernetes-action": "patch",
                      "x-kubernetes-group-version-kind": gvk, "parameters": params, "requestBody": body,
                      "responses": ok},
            "delete": {"operationId": f"delete{rt.kind}", "x-kubernetes-action": "delete",
                       "x-kubernetes-group-version-kind": gvk, "responses": ok},
        }
        paths[f"{prefix}/{{name}}"] = item
        paths[prefix] = {
            "get": {"operationId": f"list{rt.kind}", "x-kubernetes-action": "list",
                    "x-kubernetes-group-version-kind": gvk, "responses": ok},
            "post": {"operationId": f"create{rt.kind}", "x-kubernetes-action": "post",
                     "x-kubernetes-group-version-kind": gvk, "parameters": params[:3], "responses": ok},
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "unversioned"}, "paths": paths,
            "components": {"schemas": {}}}


def _digest(doc: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()


def openapi_index() -> dict[str, Any]:
    paths = {}
    for group, versions in group_versions().items():
        for version in versions:
            doc = openapi_document(group, version)
            assert doc is not None
            rel = _gv_path(group, version)
            paths[rel] = {"serverRelativeURL": f"/openapi/v3/{rel}?hash={_digest(doc)}"}
    return {"paths": paths}
