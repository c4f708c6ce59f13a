"""What every provider offers the services above it: kind, minikube, an existing cluster, or local (no cluster).

Services ask the provider instead of comparing its name: ``has_cluster`` (False for local), ``kube()`` (the one
Kubernetes client of a session), ``endpoint(model)`` (where a model answers: the local runtime or a managed
port-forward), ``preflight()`` (this machine's checks for the provider), ``runtime`` (the local runtime as a
deploy target; None on a cluster), ``up()``/``down()`` (bring the cluster up / take down what kslab created:
kind/minikube create and delete their cluster, existing creates nothing and refuses to delete, local has no
cluster to bring up and stops its model servers on down) and ``gateway_node_port``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from kslab.models.cluster import ClusterAccess, ClusterEventSink, ClusterUp, LineSink

if TYPE_CHECKING:
    from kslab.kube.client import Kube
    from kslab.local.deploy import LocalRuntime
    from kslab.models.endpoint import Endpoint
    from kslab.portforward.endpoints import ForwardedEndpoint
    from kslab.portforward.forward import EventSink
    from kslab.providers.images import NodeImages
    from kslab.providers.preflight import Check


class Provider(Protocol):
    provider: str  # "kind", "minikube", "existing", "local"
    name: str  # cluster / profile name
    creates_clusters: bool
    has_cluster: bool  # False: no Kubernetes at all (local); access() and kube() raise UsageError
    runtime: LocalRuntime | None  # the local runtime kslab deploys to instead of a cluster; None on a cluster
    gateway_node_port: int | None  # the NodePort the gateway's http2 port must have (kind host port mapping)

    def exists(self) -> bool: ...

    def create(self, on_line: LineSink | None = None) -> ClusterAccess: ...

    def delete(self, on_line: LineSink | None = None) -> None: ...

    def created_by_kslab(self) -> bool: ...

    def up(self, on_line: LineSink | None = None, on_event: ClusterEventSink | None = None) -> ClusterUp: ...

    def teardown_target(self) -> str | None: ...  # the cluster down() deletes ("kind cluster 'x'"), or None

    def down(self, on_line: LineSink | None = None) -> None: ...

    def access(self) -> ClusterAccess: ...  # the provider's own kubeconfig/context

    def client_access(self) -> ClusterAccess: ...  # where clients connect: --kubeconfig/--context, else access()

    def kube(self) -> Kube: ...  # built once per provider (one per session), shared by everything that asks

    def node_images(self) -> NodeImages | None: ...  # None: kslab cannot put images on this cluster's nodes

    def preflight(self, on_check: Callable[[Check], None] | None = None) -> list[Check]: ...

    def endpoint(self, model_name: str, *, port: int | None = None, pod: str | None = None,
                 on_event: EventSink | None = None) -> AbstractContextManager[Endpoint]: ...

    def forwarded(self, model_name: str, *, port: int | None = None, pod: str | None = None,
                  on_event: EventSink | None = None) -> AbstractContextManager[ForwardedEndpoint]: ...
