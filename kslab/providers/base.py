"""What every cluster provider offers the services above it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from kslab.models.cluster import ClusterAccess, LineSink

if TYPE_CHECKING:
    from kslab.providers.images import NodeImages


class Provider(Protocol):
    provider: str  # "kind", "minikube", "existing"
    name: str  # cluster / profile name
    creates_clusters: bool

    def exists(self) -> bool: ...

    def create(self, on_line: LineSink | None = None) -> ClusterAccess: ...

    def delete(self, on_line: LineSink | None = None) -> None: ...

    def created_by_kslab(self) -> bool: ...

    def access(self) -> ClusterAccess: ...

    def node_images(self) -> NodeImages | None: ...  # None: kslab cannot put images on this cluster's nodes
