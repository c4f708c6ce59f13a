"""A cluster kslab did not create: used as configured, never created or deleted."""

from __future__ import annotations

from kslab.config.model import Settings
from kslab.errors import UsageError
from kslab.models.cluster import ClusterAccess, ClusterEventSink, ClusterUp, LineSink
from kslab.providers.cluster import ClusterProvider
from kslab.providers.images import NodeImages


class ExistingCluster(ClusterProvider):
    provider = "existing"
    creates_clusters = False

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.name = settings.context or "current-context"

    def exists(self) -> bool:
        return True

    def create(self, on_line: LineSink | None = None) -> ClusterAccess:
        return self.access()

    def delete(self, on_line: LineSink | None = None) -> None:
        raise UsageError("kslab never deletes a cluster it did not create",
                         "use your own tooling to remove it, or 'kslab down --uninstall-stack' to remove the stack")

    def up(self, on_line: LineSink | None = None, on_event: ClusterEventSink | None = None) -> ClusterUp:
        """Nothing to create: the cluster is used as configured."""
        if on_event is not None:
            on_event("reuse", f"{self.provider} cluster {self.name}")
        return ClusterUp(self.access(), created=False)

    def teardown_target(self) -> str | None:
        return None  # kslab deletes only what it put into this cluster (namespaces, releases), never the cluster

    def down(self, on_line: LineSink | None = None) -> None:
        self.delete(on_line)

    def created_by_kslab(self) -> bool:
        return False

    def access(self) -> ClusterAccess:
        return ClusterAccess(self.settings.kubeconfig, self.settings.context)

    def node_images(self) -> NodeImages | None:
        return None  # its nodes pull from registries only
