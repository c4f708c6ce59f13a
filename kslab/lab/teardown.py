"""Tear down what kslab created — and refuse to touch anything it did not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kslab.kube import resources as R
from kslab.kube.ownership import cluster_uid
from kslab.lab.cluster import kslab_namespaces
from kslab.session import Session
from kslab.stack.components import load_components
from kslab.stack.helm import Helm
from kslab.stack.ledger import ReleaseLedger
from kslab.stack.versions import load_matrix


@dataclass
class TeardownPlan:
    """What `kslab down` will delete, shown to the user before anything happens."""

    cluster: str | None = None  # "kind cluster 'kslab'"
    namespaces: list[str] = field(default_factory=list)
    helm_releases: list[tuple[str, str]] = field(default_factory=list)  # (release, namespace)
    ledger: ReleaseLedger | None = None  # where kslab noted the releases it installed on this cluster

    def describe(self) -> list[str]:
        lines = [f"delete {self.cluster}"] if self.cluster else []
        lines += [f"helm uninstall {name} -n {ns}" for name, ns in self.helm_releases]
        lines += [f"delete namespace {ns}" for ns in self.namespaces]
        return lines

    @property
    def empty(self) -> bool:
        return not (self.cluster or self.namespaces or self.helm_releases)


def plan_teardown(session: Session, uninstall_stack: bool) -> TeardownPlan:
    settings, provider = session.settings, session.provider
    if not provider.has_cluster:
        return TeardownPlan()
    matrix = load_matrix()
    release = matrix.release(settings.kserve_version)
    cluster = provider.teardown_target()  # kind/minikube: their cluster (UsageError if kslab did not create it)
    if cluster is not None:
        return TeardownPlan(cluster=cluster)
    access = provider.client_access()
    owned = kslab_namespaces(provider.kube())
    plan = TeardownPlan(namespaces=[settings.namespace] if settings.namespace in owned else [])
    if uninstall_stack:
        # only the releases kslab installed (noted by `kslab up`) that are still there; never the user's
        plan.ledger = ReleaseLedger(session.state_dir, cluster_uid(provider.kube()))
        releases = {(r.name, r.namespace) for r in Helm(access).releases()} & plan.ledger.installed()
        for component in reversed(load_components(matrix, release, settings.mode)):
            for chart in reversed(component.charts):
                if (chart.release, chart.namespace) in releases and (chart.release, chart.namespace) not in \
                        plan.helm_releases:
                    plan.helm_releases.append((chart.release, chart.namespace))
        stack_namespaces = {ns for _, ns in plan.helm_releases}
        plan.namespaces += sorted(ns for ns in owned if ns in stack_namespaces and ns not in plan.namespaces)
    return plan


def run_teardown(session: Session, plan: TeardownPlan, on_line: Callable[[str], None] | None = None) -> None:
    provider = session.provider
    if plan.cluster:
        provider.down(on_line=on_line)
        return
    helm = Helm(provider.client_access())
    for name, namespace in plan.helm_releases:
        helm.uninstall(name, namespace)
        if plan.ledger is not None:
            plan.ledger.forget(name, namespace)
    kube = provider.kube()
    for namespace in plan.namespaces:
        kube.delete(R.NAMESPACE, namespace)
