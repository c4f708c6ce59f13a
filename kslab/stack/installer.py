"""Install the stack: components in dependency order, independent ones in parallel, each waited for.

Idempotent: a component whose expected version is installed and whose ready checks hold is left
alone; one installed at another version is reported as an upgrade plan and not touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import yaml

from kslab.errors import CheckFailed, KslabError
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.ownership import ensure_namespace
from kslab.kube.resources import ResourceRef
from kslab.paths import manifests_dir
from kslab.stack.components import Component, fill
from kslab.stack.helm import Helm, Release
from kslab.stack.ledger import ReleaseLedger
from kslab.stack.readiness import is_ready_now, wait_ready

Observer = Callable[[str, str, str], None]  # (component, phase, detail)
SUCCESS = ("installed", "already-installed")


@dataclass
class ComponentResult:
    name: str
    action: str = "pending"  # installed | already-installed | upgrade-needed | skipped | failed
    installed_version: str | None = None
    expected_version: str | None = None
    started: float = 0.0
    finished: float = 0.0
    error: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return round(max(0.0, self.finished - self.started), 3)


def chart_version(release: Release) -> str:
    """'cert-manager-v1.17.0' -> 'v1.17.0'."""
    return release.chart.rsplit("-", 1)[-1] if "-" in release.chart else release.chart


def _same_version(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lstrip("v") == b.lstrip("v")


class StackInstaller:
    def __init__(self, kube: Kube, helm: Helm, components: list[Component], values: dict[str, str], *,
                 timeout_s: int, observer: Observer | None = None, parallel: int = 3,
                 ledger: ReleaseLedger | None = None) -> None:
        self.kube = kube
        self.helm = helm
        self.components = components
        self.values = values
        self.timeout_s = timeout_s
        self.observer = observer or (lambda *_: None)
        self.parallel = parallel
        self.ledger = ledger  # where the releases kslab installs are noted (None: not noted)
        self._releases: list[Release] | None = None

    # -- inspection --------------------------------------------------------------------------
    def releases(self) -> list[Release]:
        if self._releases is None:
            self._releases = self.helm.releases()
        return self._releases

    def installed_version(self, component: Component) -> str | None:
        source = component.version_from
        if "helm_release" in source:
            for release in self.releases():
                if release.name == source["helm_release"] and release.namespace == source.get("namespace"):
                    return chart_version(release)
            return None
        if "knative_serving" in source:
            obj = self.kube.find(R.KNATIVE_SERVING, source["knative_serving"], source.get("namespace"))
            return str((obj or {}).get("spec", {}).get("version") or "") or None
        return None

    def is_ready(self, component: Component) -> bool:
        return all(is_ready_now(self.kube, check) for check in component.ready)

    # -- installation ------------------------------------------------------------------------
    def _apply_manifest(self, relative: str) -> None:
        text = fill((manifests_dir() / relative).read_text(encoding="utf-8"), self.values)
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            ref = next((r for r in vars(R).values() if isinstance(r, ResourceRef)
                        and r.api_version == doc["apiVersion"] and r.kind == doc["kind"]), None)
            if ref is None:
                raise CheckFailed(f"{relative}: kslab does not know {doc['apiVersion']}/{doc['kind']}")
            namespace = doc.get("metadata", {}).get("namespace") if ref.namespaced else None
            if namespace:
                ensure_namespace(self.kube, namespace)
            self.kube.apply(ref, doc, namespace)

    def _install_chart(self, component: Component, index: int) -> None:
        chart = component.charts[index]
        if self.ledger is not None and not any((r.name, r.namespace) == (chart.release, chart.namespace)
                                               for r in self.releases()):
            self.ledger.note(chart.release, chart.namespace)  # before helm: an interrupted install is kslab's too
        deadline = time.monotonic() + component.retry_seconds.get(chart.release, 0)
        while True:
            try:
                self.helm.upgrade_install(chart, self.timeout_s,
                                          on_line=lambda line: self.observer(component.name, "helm", line))
                return
            except CheckFailed:
                if time.monotonic() >= deadline:
                    raise
                self.observer(component.name, "retry", f"{chart.release}: webhook not answering yet, retrying")
                time.sleep(2)

    def _noted(self, component: Component) -> bool:
        """Whether kslab installed every release of ``component`` on this cluster (its ledger says so)."""
        mine = self.ledger.installed() if self.ledger is not None else set()
        return all((c.release, c.namespace) in mine for c in component.charts)

    def _await_theirs(self, component: Component, result: ComponentResult) -> ComponentResult:
        """A release someone else installed, at the wanted version but not ready yet: wait for it, never upgrade it."""
        self.observer(component.name, "wait", "installed outside kslab, not ready yet: waiting (kslab leaves it as is)")
        for check in component.ready:
            try:
                wait_ready(self.kube, check, self.timeout_s)
            except KslabError as exc:
                raise CheckFailed(f"{component.name} was installed outside kslab and is not ready: {exc.message}",
                                  hint="kslab does not modify releases it did not install: repair it "
                                       "(helm status/history) or uninstall it and run kslab up again") from exc
        result.action = "already-installed"
        self.observer(component.name, "skip", f"already installed {result.installed_version or ''}".strip())
        return result

    def install_one(self, component: Component) -> ComponentResult:
        result = ComponentResult(component.name, started=time.monotonic())
        expected = component.version_from.get("expect")
        result.expected_version = expected
        try:
            result.installed_version = self.installed_version(component)
            if result.installed_version and expected and not _same_version(result.installed_version, expected):
                result.action = "upgrade-needed"
                self.observer(component.name, "plan", f"{result.installed_version} installed, {expected} wanted")
                return result
            if (result.installed_version or not component.version_from) and self.is_ready(component):
                result.action = "already-installed"
                self.observer(component.name, "skip", f"already installed {result.installed_version or ''}".strip())
                return result
            if result.installed_version and component.charts and not self._noted(component):
                return self._await_theirs(component, result)
            for namespace in dict.fromkeys(c.namespace for c in component.charts):
                ensure_namespace(self.kube, namespace)  # labelled, so `kslab down` knows kslab made it
            for index, chart in enumerate(component.charts):
                step_start = time.monotonic()
                self.observer(component.name, "install", f"helm upgrade --install {chart.release} {chart.chart}")
                self._install_chart(component, index)
                result.steps.append({"step": f"helm {chart.release}", "duration_s":
                                     round(time.monotonic() - step_start, 3)})
            for manifest in component.manifests:
                self.observer(component.name, "apply", manifest)
                self._apply_manifest(manifest)
            for check in component.ready:
                step_start = time.monotonic()
                self.observer(component.name, "wait", check.describe())
                wait_ready(self.kube, check, self.timeout_s)
                result.steps.append({"step": f"wait {check.describe()}", "duration_s":
                                     round(time.monotonic() - step_start, 3)})
            result.action = "installed"
            result.installed_version = expected
            self.observer(component.name, "ready", expected or "")
        except KslabError as exc:
            result.action, result.error = "failed", exc.message
            self.observer(component.name, "failed", exc.message)
            raise
        finally:
            result.finished = time.monotonic()
        return result

    def run(self) -> list[ComponentResult]:
        """Install everything; on failure the first error is raised with ``.results`` attached."""
        results: dict[str, ComponentResult] = {}
        pending = {c.name: c for c in self.components}
        running: dict[Future[ComponentResult], Component] = {}
        first_error: KslabError | None = None
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            while pending or running:
                started = []
                busy = set(pending) | {c.name for c in running.values()}
                for name, component in list(pending.items()):
                    if any(need in busy for need in component.needs):
                        continue
                    del pending[name]
                    blocked = [n for n in component.needs if results[n].action not in SUCCESS]
                    if blocked:
                        results[name] = ComponentResult(name, action="skipped", error=f"needs {', '.join(blocked)}")
                        self.observer(name, "skip", f"not installed: needs {', '.join(blocked)}")
                        continue
                    running[pool.submit(self.install_one, component)] = component
                    started.append(name)
                if len(running) > 1 and started:
                    self.observer("stack", "parallel", " and ".join(c.name for c in running.values()))
                if not running:
                    continue
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    component = running.pop(future)
                    try:
                        results[component.name] = future.result()
                    except KslabError as exc:
                        first_error = first_error or exc
                        results[component.name] = ComponentResult(component.name, action="failed", error=exc.message)
        ordered = [results[c.name] for c in self.components]
        if first_error is not None:
            first_error.results = ordered  # type: ignore[attr-defined]
            raise first_error
        return ordered
