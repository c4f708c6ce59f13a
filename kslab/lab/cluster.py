"""Bring the lab's cluster and stack up, describe them, and tear down what kslab created."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kslab.errors import CheckFailed, EnvironmentMissing, KslabError
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.ownership import MANAGED_BY_LABEL, cluster_uid, ensure_namespace
from kslab.lab.cluster_facts import cluster_facts
from kslab.models.cluster import ClusterAccess
from kslab.models.stack import StackMatrix
from kslab.providers.preflight import Check, check_server_version, require_passing
from kslab.session import Session
from kslab.stack.components import load_components, placeholders
from kslab.stack.helm import Helm
from kslab.stack.installer import ComponentResult, StackInstaller
from kslab.stack.ledger import ReleaseLedger
from kslab.stack.versions import load_matrix

Observer = Callable[[str, str, str], None]


@dataclass
class UpResult:
    access: ClusterAccess
    provider: str
    cluster: str
    created_cluster: bool
    server_version: str
    components: list[ComponentResult] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


def _expose_gateway(kube: Kube, node_port: int) -> None:
    """Make the gateway's http2 port NodePort ``node_port`` so the provider's host port mapping reaches it (kind's
    kind.ingress_host_port maps to 31080)."""
    service = kube.find(R.SERVICE, "istio-ingressgateway", "istio-system")
    if service is None:
        return
    ports = (service.get("spec") or {}).get("ports") or []
    index = next((i for i, p in enumerate(ports) if p.get("name") == "http2"), None)
    if index is None or (service["spec"].get("type") == "NodePort" and ports[index].get("nodePort") == node_port):
        return
    kube.patch_json(R.SERVICE, "istio-ingressgateway", [
        {"op": "replace", "path": "/spec/type", "value": "NodePort"},
        {"op": "add", "path": f"/spec/ports/{index}/nodePort", "value": node_port},
    ], "istio-system")


def bring_up(session: Session, *, observer: Observer | None = None, on_check: Callable[[Check], None] | None = None,
             matrix: StackMatrix | None = None) -> UpResult:
    """Preflight → cluster → stack → lab namespace on the session's provider; every step goes into the session's
    record."""
    settings, record, provider = session.settings, session.require_record(), session.provider
    observe = observer or (lambda *_: None)
    matrix = matrix or load_matrix()
    release = matrix.release(settings.kserve_version)
    with record.step("preflight", provider=settings.provider) as obs:
        checks = provider.preflight(on_check)
        obs["checks"] = [c.to_dict() for c in checks]
        require_passing(checks)
    with record.step("cluster", provider=provider.provider, name=provider.name) as obs:
        up = provider.up(on_line=lambda line: observe("cluster", provider.provider, line),
                         on_event=lambda state, detail: observe("cluster", state, detail))
        access, created = up.access, up.created
        obs.update(created=created, kubeconfig=access.kubeconfig, context=access.context)
    kube = provider.kube()
    with record.step("kubernetes-version") as obs:
        server = kube.version().get("git_version", "")
        check = check_server_version(server, release)
        obs.update(server=server, check=check.to_dict())
        if not check.ok:
            raise EnvironmentMissing(f"preflight: {check.detail}", check.fix)
    record.set("cluster", {"provider": provider.provider, "name": provider.name, **cluster_facts(kube)})
    components = load_components(matrix, release, settings.mode)
    helm = Helm(provider.client_access())  # the cluster the kube client talks to (--kubeconfig/--context first)
    installer = StackInstaller(kube, helm, components, placeholders(matrix, release, settings.mode),
                               timeout_s=settings.timeouts.install, observer=observe,
                               ledger=ReleaseLedger(session.state_dir, cluster_uid(kube)))
    with record.step("stack", kserve=release.kserve, mode=settings.mode) as obs:
        try:
            results = installer.run()
        except KslabError as exc:
            obs["components"] = [_result_dict(r) for r in getattr(exc, "results", [])]
            raise
        obs["components"] = [_result_dict(r) for r in results]
        record.set("stack", {"kserve": release.kserve, "mode": settings.mode,
                             "components": {r.name: r.installed_version or r.expected_version for r in results}})
        plans = [r for r in results if r.action == "upgrade-needed"]
        if plans:
            raise CheckFailed("upgrade needed, nothing changed: " + "; ".join(
                f"{r.name} {r.installed_version} installed, {r.expected_version} wanted" for r in plans),
                "kslab does not upgrade a running stack: 'kslab down' and 'kslab up' again, or choose the "
                "installed KServe with --kserve-version")
    if provider.gateway_node_port is not None:
        _expose_gateway(kube, provider.gateway_node_port)
    with record.step("lab-namespace", namespace=settings.namespace):
        ensure_namespace(kube, settings.namespace)
    nodes = provider.node_images()
    if nodes is not None:
        from kslab.lab.images import put_images

        with record.step("images", kserve=release.kserve) as obs:
            obs.update(put_images(settings, nodes, release.kserve, lambda line: observe("images", "image", line)))
    return UpResult(access, provider.provider, provider.name, created, server, results, checks)


def _result_dict(result: ComponentResult) -> dict[str, Any]:
    return {"name": result.name, "action": result.action, "installed_version": result.installed_version,
            "expected_version": result.expected_version, "duration_s": result.duration_s, "error": result.error,
            "steps": result.steps}


def kslab_namespaces(kube: Kube) -> list[str]:
    items, _ = kube.list(R.NAMESPACE, label_selector=f"{MANAGED_BY_LABEL[0]}={MANAGED_BY_LABEL[1]}")
    return [item["metadata"]["name"] for item in items]
