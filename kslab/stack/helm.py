"""Helm 3 through its CLI: repositories, `upgrade --install`, release listing, uninstall."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from kslab.errors import CheckFailed
from kslab.models.cluster import ClusterAccess, LineSink
from kslab.util.process import run_tool


@dataclass(frozen=True)
class Chart:
    """One `helm upgrade --install` as data (built from manifests/stack/components.yaml)."""

    release: str
    chart: str
    namespace: str
    version: str | None = None
    values: tuple[tuple[str, str], ...] = ()  # --set
    string_values: tuple[tuple[str, str], ...] = ()  # --set-string
    repo: tuple[str, str] | None = None  # (name, url) to `helm repo add` first
    wait: bool = True
    extra_args: tuple[str, ...] = field(default=())

    def upgrade_args(self, timeout_s: int) -> list[str]:
        args = ["upgrade", "--install", self.release, self.chart, "--namespace", self.namespace, "--create-namespace"]
        if self.version:
            args += ["--version", self.version]
        for key, value in self.values:
            args += ["--set", f"{key}={value}"]
        for key, value in self.string_values:
            args += ["--set-string", f"{key}={value}"]
        if self.wait:
            args += ["--wait", "--timeout", f"{timeout_s}s"]
        return args + list(self.extra_args)


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    chart: str  # "<chart>-<version>" as helm prints it
    app_version: str
    status: str


class Helm:
    def __init__(self, access: ClusterAccess) -> None:
        self.access = access

    def _cluster_args(self) -> list[str]:
        args = []
        if self.access.kubeconfig:
            args += ["--kubeconfig", self.access.kubeconfig]
        if self.access.context:
            args += ["--kube-context", self.access.context]
        return args

    def version(self) -> str:
        result = run_tool("helm", ["version", "--short"], timeout=30)
        return result.stdout.strip() if result.ok else ""

    def repo_add(self, name: str, url: str) -> None:
        result = run_tool("helm", ["repo", "add", name, url, "--force-update"], timeout=120)
        if not result.ok:
            raise CheckFailed(f"helm repo add {name} {url} failed: {result.last_error_line()}",
                              "check the network access to the chart repository")

    def upgrade_install(self, chart: Chart, timeout_s: int, on_line: LineSink | None = None) -> None:
        if chart.repo is not None:
            self.repo_add(*chart.repo)
        result = run_tool("helm", [*chart.upgrade_args(timeout_s), *self._cluster_args()],
                          timeout=timeout_s + 60, on_stderr_line=on_line)
        if not result.ok:
            raise CheckFailed(f"helm upgrade --install {chart.release} ({chart.chart}) failed: "
                              f"{result.last_error_line()}",
                              f"inspect with: helm status {chart.release} -n {chart.namespace}")

    def releases(self, namespaces: Sequence[str] | None = None) -> list[Release]:
        result = run_tool("helm", ["list", "--all-namespaces", "-o", "json", *self._cluster_args()], timeout=60)
        if not result.ok:
            raise CheckFailed(f"helm list failed: {result.last_error_line()}")
        out = []
        for item in json.loads(result.stdout or "[]"):
            if namespaces is None or item.get("namespace") in namespaces:
                out.append(Release(item.get("name", ""), item.get("namespace", ""), item.get("chart", ""),
                                   str(item.get("app_version", "")), item.get("status", "")))
        return out

    def uninstall(self, release: str, namespace: str) -> None:
        result = run_tool("helm", ["uninstall", release, "--namespace", namespace, *self._cluster_args()],
                          timeout=300)
        if not result.ok and "not found" not in result.last_error_line():
            raise CheckFailed(f"helm uninstall {release} failed: {result.last_error_line()}")
