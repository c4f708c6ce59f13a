"""The pinned stack: a kind release with its node image, one KServe release's pins, and the whole matrix.

Loaded from manifests/stack/versions.yaml by kslab.stack.versions.load_matrix; every layer reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kslab.errors import UsageError


@dataclass(frozen=True)
class KindPin:
    """A kind release and the node image its release notes list for it, pinned by digest."""

    kind_release: str  # vX.Y.Z
    node_image: str  # kindest/node:vX.Y.Z@sha256:<64 hex digits>

    @property
    def kubernetes(self) -> str:
        """The node image's Kubernetes version: 'v1.34.0'."""
        return self.node_image.split(":", 1)[1].split("@", 1)[0]


@dataclass(frozen=True)
class StackRelease:
    """Everything pinned for one KServe minor release."""

    minor: str
    kserve: str
    kubernetes_min: str
    istio: str
    knative_serving: str
    knative_operator: str
    knative_operator_namespace: str
    cert_manager: str
    gateway_api: str | None
    install_method: str
    controller_chart: str
    runtimes_chart: str | None
    deployment_modes: dict[str, str]
    kind: KindPin

    def deployment_mode(self, mode: str) -> str:
        """The name this release uses for kslab's ``knative`` / ``standard`` mode."""
        return self.deployment_modes[mode]


@dataclass(frozen=True)
class StackMatrix:
    default: str
    charts: dict[str, str]
    releases: dict[str, StackRelease]

    def release(self, version: str | None = None) -> StackRelease:
        """The release for '0.20', '0.20.0' or 'v0.20.0' (None: the default)."""
        wanted = (version or self.default).lstrip("v")
        minor = ".".join(wanted.split(".")[:2])
        if minor not in self.releases:
            raise UsageError(f"KServe version {version} is not in the version matrix",
                             f"choose one of {', '.join(sorted(self.releases))} or add it to "
                             "manifests/stack/versions.yaml")
        release = self.releases[minor]
        if wanted.count(".") == 2 and wanted != release.kserve.lstrip("v"):
            raise UsageError(f"KServe version {version} is not pinned (the {minor} entry pins {release.kserve})",
                             "use the pinned patch release or edit manifests/stack/versions.yaml")
        return release
