"""`kslab status`: cluster, stack components and InferenceServices, read from the cluster."""

from __future__ import annotations

import json
from typing import Any

from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import condition
from kslab.session import Session
from kslab.stack.components import load_components, placeholders
from kslab.stack.helm import Helm
from kslab.stack.installer import StackInstaller
from kslab.stack.versions import load_matrix


def default_deployment_mode(kube: Kube) -> str | None:
    config = kube.find(R.CONFIGMAP, "inferenceservice-config", "kserve")
    raw = ((config or {}).get("data") or {}).get("deploy")
    try:
        return json.loads(raw).get("defaultDeploymentMode") if raw else None
    except ValueError:
        return None


def inference_services(kube: Kube, namespace: str | None = None) -> list[dict[str, Any]]:
    items, _ = kube.list(R.INFERENCE_SERVICE, namespace)
    out = []
    for item in items:
        ready = condition(item, "Ready") or {}
        out.append({"name": item["metadata"]["name"], "namespace": item["metadata"]["namespace"],
                    "ready": ready.get("status", "Unknown"), "reason": ready.get("reason"),
                    "url": (item.get("status") or {}).get("url")})
    return out


def local_status(session: Session) -> dict[str, Any]:
    """Provider local: the model servers running on this machine under the state dir (no cluster to read)."""
    from kslab.local.runtime import recorded

    runtime = session.provider.runtime
    servers = []
    for name in recorded(runtime.state) if runtime is not None else []:
        found = runtime.status(name)
        if found is not None:
            data = found.to_dict()
            servers.append({k: data.get(k) for k in ("name", "version", "pid", "url", "ready", "started_at")})
    return {"provider": session.settings.provider, "state_dir": str(runtime.state) if runtime else None,
            "servers": servers}


def cluster_status(session: Session) -> dict[str, Any]:
    settings, provider = session.settings, session.provider
    matrix = load_matrix()
    release = matrix.release(settings.kserve_version)
    access = provider.client_access()
    kube = provider.kube()
    components = load_components(matrix, release, settings.mode)
    installer = StackInstaller(kube, Helm(access), components, placeholders(matrix, release, settings.mode),
                               timeout_s=settings.timeouts.install)
    rows = []
    for component in components:
        namespaces = sorted({c.namespace for c in component.charts} | {r.namespace for r in component.ready
                                                                        if r.namespace})
        rows.append({"name": component.name, "version": installer.installed_version(component),
                     "expected": component.version_from.get("expect"), "ready": installer.is_ready(component),
                     "namespace": ", ".join(namespaces)})
    return {
        "provider": settings.provider,
        "cluster": provider.name if provider.creates_clusters else access.context,
        "kubeconfig": access.kubeconfig,
        "context": access.context,
        "server_version": kube.version().get("git_version"),
        "kserve_default_deployment_mode": default_deployment_mode(kube),
        "components": rows,
        "inference_services": inference_services(kube),
    }
