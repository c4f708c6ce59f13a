"""What every cluster provider offers the services above it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kslab.providers.images import NodeImages

LineSink = Callable[[str], None]


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach a cluster: a kubeconfig file and a context in it (None = the client's default)."""

    kubeconfig: str | None
    context: str | None


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
