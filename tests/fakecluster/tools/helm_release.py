"""The fake helm's cluster side: resource mapping, applying and deleting objects, readiness, release storage.

Releases are stored the way Helm 3's default "secret" driver stores them: one Secret per revision,
``sh.helm.release.v1.<release>.v<revision>``, type ``helm.sh/release.v1``, labels ``owner=helm``,
``name``, ``status``, ``version`` (+ ``createdAt``/``modifiedAt``), and ``data.release`` holding
base64(gzip(JSON release)) — real Helm's encoding, so tools that decode release Secrets work.

Objects are written with server-side apply (fieldManager ``helm``, force). Real Helm 3 creates new
objects with POST and updates with a three-way strategic merge; on this fake the outcome is the same.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import time
from typing import Any

from .common import Api, ApiFailure

Obj = dict[str, Any]
# Helm's InstallOrder (pkg/releaseutil/kind_sorter.go); kinds not listed go last, in input order.
INSTALL_ORDER = ("PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
                 "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
                 "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
                 "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
                 "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
                 "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass",
                 "Ingress", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
MANAGED_BY = "app.kubernetes.io/managed-by"
RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"


class HelmFailure(Exception):
    """An error helm prints as ``Error: <message>``."""


def install_sorted(objects: list[Obj]) -> list[Obj]:
    rank = {kind: i for i, kind in enumerate(INSTALL_ORDER)}
    return sorted(objects, key=lambda o: rank.get(o.get("kind", ""), len(INSTALL_ORDER)))


def now_stamp() -> dt.datetime:
    return dt.datetime.now().astimezone()


def go_time(stamp: str) -> str:
    """Go's Time.String() ('2025-11-23 22:30:00.123456 +0000 UTC') for an ISO timestamp."""
    parsed = dt.datetime.fromisoformat(stamp)
    return parsed.strftime("%Y-%m-%d %H:%M:%S.%f ") + parsed.strftime("%z %Z").strip()


def ansic(stamp: str) -> str:
    """Go's time.ANSIC layout, which `helm status` uses for LAST DEPLOYED."""
    parsed = dt.datetime.fromisoformat(stamp)
    return parsed.strftime("%a %b ") + f"{parsed.day:>2}" + parsed.strftime(" %H:%M:%S %Y")


class Kube:
    """The helm kube client against one API server: discovery-based mapping, apply, delete, readiness."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._discovery: dict[str, list[Obj] | None] = {}
        self._crds: dict[str, bool] = {}

    def reachable(self) -> None:
        try:
            self.api.get("/version")
        except ApiFailure as exc:
            raise HelmFailure(f"Kubernetes cluster unreachable: {exc.message}") from None

    def _resources(self, api_version: str) -> list[Obj] | None:
        if api_version not in self._discovery:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                self._discovery[api_version] = self.api.get(path).get("resources", [])
            except ApiFailure as exc:
                if exc.status != 404:
                    raise
                self._discovery[api_version] = None
        return self._discovery[api_version]

    def _crd_installed(self, plural: str, group: str) -> bool:
        """Custom kinds exist only once their CRD does (the fake server serves every kind it knows)."""
        name = f"{plural}.{group}"
        if name not in self._crds:
            self._crds[name] = self.api.find(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}") \
                is not None
        return self._crds[name]

    def mapping(self, obj: Obj) -> tuple[str, bool]:
        """(plural, namespaced) for an object, or helm's 'resource mapping not found' error."""
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        for res in self._resources(api_version) or []:
            if res.get("kind") == kind and "/" not in res.get("name", ""):
                custom = "." in group and not group.endswith(".k8s.io")
                if not custom or self._crd_installed(res["name"], group):
                    return res["name"], bool(res.get("namespaced"))
        meta = obj.get("metadata") or {}
        raise HelmFailure(f'resource mapping not found for name: "{meta.get("name", "")}" namespace: '
                          f'"{meta.get("namespace", "")}" from "": no matches for kind "{kind}" in version '
                          f'"{api_version}"\nensure CRDs are installed first')

    def path(self, obj: Obj, collection: bool = False) -> str:
        plural, namespaced = self.mapping(obj)
        api_version = obj["apiVersion"]
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if namespaced:
            base += f"/namespaces/{obj['metadata']['namespace']}"
        base += f"/{plural}"
        return base if collection else f"{base}/{obj['metadata']['name']}"

    def get(self, obj: Obj) -> Obj | None:
        return self.api.find(self.path(obj))

    def apply(self, obj: Obj) -> Obj:
        return self.api.request("PATCH", self.path(obj), obj, query={"fieldManager": "helm", "force": "true"},
                                content_type="application/apply-patch+yaml")

    def delete(self, obj: Obj) -> bool:
        try:
            self.api.request("DELETE", self.path(obj), {"propagationPolicy": "Background"})
            return True
        except ApiFailure as exc:
            if exc.status == 404:
                return False
            raise

    def ready(self, obj: Obj) -> bool:
        """Helm's ReadyChecker for the kinds charts here create."""
        live = self.get(obj)
        if live is None:
            return False
        kind, status, spec = live.get("kind"), live.get("status") or {}, live.get("spec") or {}
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        if kind == "Deployment":
            if spec.get("paused"):
                return True
            observed = status.get("observedGeneration")
            if observed is not None and observed < live["metadata"].get("generation", 0):
                return False
            return conditions.get("Available") == "True"
        if kind == "Service":
            if spec.get("type") == "LoadBalancer":  # kind/minikube have no LB provider: stays <pending>
                return bool(spec.get("externalIPs")) or bool((status.get("loadBalancer") or {}).get("ingress"))
            return True
        if kind == "CustomResourceDefinition":
            # A real apiserver sets Established within milliseconds; the fake may not set it at all.
            if not conditions:
                return True
            return conditions.get("Established") == "True" or conditions.get("NamesAccepted") == "False"
        if kind == "Pod":
            return conditions.get("Ready") == "True"
        if kind == "PersistentVolumeClaim":
            return status.get("phase") == "Bound"
        return True

    def wait(self, objects: list[Obj], timeout: float, gone: bool = False) -> bool:
        """Poll until every object is ready (or deleted, with ``gone``); False after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                done = all((self.get(o) is None) if gone else self.ready(o) for o in objects)
            except ApiFailure:
                done = False  # helm retries transient errors while waiting
            if done:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


# -- release storage --------------------------------------------------------------------------------
def secret_name(name: str, version: int) -> str:
    return f"sh.helm.release.v1.{name}.v{version}"


def encode(release: Obj) -> str:
    """data.release of the Secret: base64(base64(gzip(json))) — helm's encoding plus the Secret's own."""
    inner = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return base64.b64encode(inner.encode()).decode()


def decode(secret: Obj) -> Obj:
    inner = base64.b64decode((secret.get("data") or {}).get("release", ""))
    raw = base64.b64decode(inner)
    return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def history(kube: Kube, name: str, namespace: str) -> list[Obj]:
    """All stored revisions of a release, oldest first."""
    items = kube.api.get(f"/api/v1/namespaces/{namespace}/secrets",
                         labelSelector=f"owner=helm,name={name}").get("items", [])
    return sorted((decode(s) for s in items), key=lambda r: r["version"])


def all_releases(kube: Kube, namespace: str | None) -> list[Obj]:
    """The latest revision of every release (in one namespace or all)."""
    path = f"/api/v1/namespaces/{namespace}/secrets" if namespace else "/api/v1/secrets"
    latest: dict[tuple[str, str], Obj] = {}
    for secret in kube.api.get(path, labelSelector="owner=helm").get("items", []):
        release = decode(secret)
        key = (release["namespace"], release["name"])
        if key not in latest or latest[key]["version"] < release["version"]:
            latest[key] = release
    return [latest[k] for k in sorted(latest)]


def store(kube: Kube, release: Obj, *, create: bool) -> None:
    """Create or replace the Secret for ``release`` (errors worded like helm's storage driver)."""
    ns, name, version = release["namespace"], release["name"], release["version"]
    stamp = str(int(time.time()))
    labels = {"name": name, "owner": "helm", "status": release["info"]["status"], "version": str(version),
              "modifiedAt": stamp}
    body: Obj = {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
                 "metadata": {"name": secret_name(name, version), "namespace": ns, "labels": labels},
                 "data": {"release": encode(release)}}
    path = f"/api/v1/namespaces/{ns}/secrets"
    try:
        if create:
            labels["createdAt"] = stamp
            kube.api.request("POST", path, body)
        else:
            live = kube.api.get(f"{path}/{secret_name(name, version)}")
            labels["createdAt"] = (live["metadata"].get("labels") or {}).get("createdAt", stamp)
            body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            kube.api.request("PUT", f"{path}/{secret_name(name, version)}", body)
    except ApiFailure as exc:
        verb = "create" if create else "update"
        raise HelmFailure(f"{verb}: failed to {verb}: {exc.message}") from None


def forget(kube: Kube, release: Obj) -> None:
    kube.api.request("DELETE", f"/api/v1/namespaces/{release['namespace']}/secrets/"
                               f"{secret_name(release['name'], release['version'])}")


def ownership_problems(live: Obj, release: str, namespace: str) -> list[str]:
    """Helm's invalid-ownership-metadata checks on an existing object."""
    meta = live.get("metadata") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    problems = []
    for source, kind, key, want in ((labels, "label", MANAGED_BY, "Helm"),
                                    (annotations, "annotation", RELEASE_NAME, release),
                                    (annotations, "annotation", RELEASE_NAMESPACE, namespace)):
        if key not in source:
            problems.append(f'{kind} validation error: missing key "{key}": must be set to "{want}"')
        elif source[key] != want:
            problems.append(f'{kind} validation error: key "{key}" must equal "{want}": current value is '
                            f'"{source[key]}"')
    return problems
