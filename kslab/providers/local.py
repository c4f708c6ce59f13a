"""Provider local: no cluster; models are served by the real KServe model server on 127.0.0.1 (kslab.local)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from kslab.config.model import Settings
from kslab.errors import UsageError
from kslab.local.deploy import LocalRuntime
from kslab.models.catalog import catalog_model
from kslab.models.cluster import ClusterAccess, ClusterEventSink, ClusterUp, LineSink
from kslab.models.endpoint import Endpoint
from kslab.providers.preflight import Check

if TYPE_CHECKING:
    from kslab.kube.client import Kube
    from kslab.portforward.endpoints import ForwardedEndpoint
    from kslab.portforward.forward import EventSink
    from kslab.providers.images import NodeImages

NO_CLUSTER_FIX = "use --provider kind|minikube|existing"


class LocalProvider:
    provider = "local"
    name = "local runtime"
    creates_clusters = False
    has_cluster = False
    gateway_node_port: int | None = None

    def __init__(self, settings: Settings, state: Path) -> None:
        self.settings = settings
        self._local = LocalRuntime(settings, state)
        self.runtime: LocalRuntime | None = self._local

    def _no_cluster(self, what: str) -> NoReturn:
        raise UsageError(f"{what} needs a cluster provider; provider local has no Kubernetes", NO_CLUSTER_FIX)

    def exists(self) -> bool:
        return True

    def create(self, on_line: LineSink | None = None) -> ClusterAccess:
        self._no_cluster("creating a cluster")

    def delete(self, on_line: LineSink | None = None) -> None:
        self._no_cluster("deleting a cluster")

    def created_by_kslab(self) -> bool:
        return False

    def up(self, on_line: LineSink | None = None, on_event: ClusterEventSink | None = None) -> ClusterUp:
        """Nothing to start up front (a model's server starts when it is deployed), and no cluster to hand back."""
        self._no_cluster("bringing up a cluster")

    def teardown_target(self) -> str | None:
        return None

    def down(self, on_line: LineSink | None = None) -> None:
        """Stop every local model server kslab started (under this state dir)."""
        for name in self._local.undeploy_all():
            if on_line is not None:
                on_line(f"stopped the local runtime for {name}")

    def access(self) -> ClusterAccess:
        self._no_cluster("a kubeconfig")

    def client_access(self) -> ClusterAccess:
        self._no_cluster("a kubeconfig")

    def kube(self) -> Kube:
        self._no_cluster("a Kubernetes client")

    def forwarded(self, model_name: str, *, port: int | None = None, pod: str | None = None,
                  on_event: EventSink | None = None) -> AbstractContextManager[ForwardedEndpoint]:
        self._no_cluster("a port-forward")

    def node_images(self) -> NodeImages | None:
        return None

    def preflight(self, on_check: Callable[[Check], None] | None = None) -> list[Check]:
        return []  # the model server runs in this Python: nothing else to check

    @contextlib.contextmanager
    def endpoint(self, model_name: str, *, port: int | None = None, pod: str | None = None,
                 on_event: EventSink | None = None) -> Iterator[Endpoint]:
        """The local runtime serving ``model_name`` (UsageError when it is not running); nothing to forward."""
        if port is not None or pod is not None:
            raise UsageError("--port and --pod need a cluster provider",
                             "the local runtime has its own port; drop them")
        catalog_model(model_name)
        yield self._local.endpoint(model_name)
