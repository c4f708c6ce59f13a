"""minikube profiles, with their kubeconfig written to kslab's state dir (KUBECONFIG set for minikube)."""

from __future__ import annotations

import json
from collections.abc import Callable

from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.models.cluster import ClusterAccess, LineSink
from kslab.models.stack import StackRelease
from kslab.providers.identity import MINIKUBE_PROFILE_LABEL, container_ids
from kslab.providers.images import MinikubeImages
from kslab.providers.preflight import Check, collect, minikube_checks
from kslab.providers.state import CreatedClusterProvider, ProviderState
from kslab.util.process import run_tool


class MinikubeProvider(CreatedClusterProvider):
    provider = "minikube"

    def __init__(self, settings: Settings, release: StackRelease, state: ProviderState) -> None:
        super().__init__(settings.minikube.profile, settings.minikube.profile, state)
        self.settings = settings
        self.release = release

    def _env(self) -> dict[str, str]:
        return {"KUBECONFIG": str(self.kubeconfig)}

    def kubernetes_version(self) -> str:
        if self.settings.minikube.kubernetes_version:
            return self.settings.minikube.kubernetes_version
        return self.release.kind.kubernetes

    def exists(self) -> bool:
        result = run_tool("minikube", ["profile", "list", "-o", "json"], timeout=60, env=self._env())
        try:
            profiles = json.loads(result.stdout or "{}")
        except ValueError:
            return False
        names = [p.get("Name") for p in (profiles.get("valid") or []) + (profiles.get("invalid") or [])]
        return self.name in names

    def identity(self) -> str | None:
        """The profile's container id with the docker driver; None with a driver kslab cannot ask."""
        if self.settings.minikube.driver != "docker":
            return None
        return container_ids(MINIKUBE_PROFILE_LABEL, self.name)

    def create(self, on_line: LineSink | None = None) -> ClusterAccess:
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        mk = self.settings.minikube
        args = ["start", "-p", self.name, "--cpus", str(mk.cpus), "--memory", f"{mk.memory_mb}mb",
                "--driver", mk.driver, "--kubernetes-version", self.kubernetes_version()]
        result = run_tool("minikube", args, timeout=self.settings.timeouts.install, env=self._env(),
                          on_stderr_line=on_line)
        if not result.ok:
            raise CheckFailed(f"minikube start failed: {result.last_error_line()}",
                              f"see 'minikube logs -p {self.name}'")
        self.remember_created()
        return self.access()

    def node_images(self) -> MinikubeImages:
        return MinikubeImages(self.name, self.settings.timeouts.install, self._env())

    def delete(self, on_line: LineSink | None = None) -> None:
        result = run_tool("minikube", ["delete", "-p", self.name], timeout=self.settings.timeouts.install,
                          env=self._env(), on_stderr_line=on_line)
        if not result.ok:
            raise CheckFailed(f"minikube delete failed: {result.last_error_line()}")
        self.forget_created()

    def preflight(self, on_check: Callable[[Check], None] | None = None) -> list[Check]:
        return collect(minikube_checks(self.settings), on_check)
