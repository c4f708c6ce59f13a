"""Which provider the settings name, and where its cluster is."""

from __future__ import annotations

from kslab.config.model import Settings
from kslab.errors import UsageError
from kslab.models.cluster import ClusterAccess
from kslab.models.stack import StackMatrix, StackRelease
from kslab.providers.base import Provider
from kslab.providers.existing import ExistingCluster
from kslab.providers.kind import KindProvider
from kslab.providers.minikube import MinikubeProvider
from kslab.providers.state import ProviderState
from kslab.stack.versions import load_matrix


def make_provider(settings: Settings, release: StackRelease, state: ProviderState | None = None,
                  preload: tuple[str, ...] = ()) -> Provider:
    if settings.provider == "kind":
        return KindProvider(settings, release, state, preload)
    if settings.provider == "minikube":
        return MinikubeProvider(settings, release, state)
    if settings.provider == "existing":
        return ExistingCluster(settings)
    raise UsageError(f"provider {settings.provider!r} has no cluster",
                     "use --provider kind|minikube|existing (local runs need no cluster)")


def cluster_access(settings: Settings, matrix: StackMatrix | None = None,
                   state: ProviderState | None = None) -> ClusterAccess:
    """Where kslab's cluster is: the provider's kubeconfig, overridden by --kubeconfig/--context."""
    if settings.kubeconfig or settings.context or settings.provider == "existing":
        return ClusterAccess(settings.kubeconfig, settings.context)
    matrix = matrix or load_matrix()
    return make_provider(settings, matrix.release(settings.kserve_version), state).access()
