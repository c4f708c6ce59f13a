"""What every cluster provider shares: its one Kube client and models reached through a managed port-forward."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from kslab.config.model import Settings
from kslab.models.catalog import catalog_model
from kslab.models.cluster import ClusterAccess
from kslab.models.endpoint import Endpoint
from kslab.providers.preflight import Check, cluster_tools, collect

if TYPE_CHECKING:
    from kslab.kube.client import Kube
    from kslab.local.deploy import LocalRuntime
    from kslab.portforward.endpoints import ForwardedEndpoint
    from kslab.portforward.forward import EventSink


class ClusterProvider:
    """Mixed into kind, minikube and existing: ``settings`` and ``access()`` come from the concrete class."""

    settings: Settings
    has_cluster = True
    runtime: LocalRuntime | None = None
    gateway_node_port: int | None = None  # kind with kind.ingress_host_port: the NodePort the host port maps to

    def __init__(self) -> None:
        self._kube: Kube | None = None
        self._kube_lock = threading.Lock()  # one per provider: building a client never waits on another session's

    def access(self) -> ClusterAccess:
        raise NotImplementedError

    def client_access(self) -> ClusterAccess:
        """Where clients connect: --kubeconfig/--context when given, else the provider's own kubeconfig."""
        if self.settings.kubeconfig or self.settings.context:
            return ClusterAccess(self.settings.kubeconfig, self.settings.context)
        return self.access()

    def kube(self) -> Kube:
        """The provider's Kubernetes client, built on first use (kubernetes is heavy) and then shared."""
        with self._kube_lock:
            if self._kube is None:
                from kslab.kube.client import Kube

                access = self.client_access()
                self._kube = Kube(access.kubeconfig, access.context,
                                  request_timeout=float(self.settings.timeouts.request))
            return self._kube

    def preflight(self, on_check: Callable[[Check], None] | None = None) -> list[Check]:
        return collect(cluster_tools(), on_check)

    @contextlib.contextmanager
    def forwarded(self, model_name: str, *, port: int | None = None, pod: str | None = None,
                  on_event: EventSink | None = None) -> Iterator[ForwardedEndpoint]:
        """The InferenceService ``model_name`` in the settings' namespace through a port-forward kept open for
        the block (the PortForward itself too, for ``kslab port-forward``)."""
        from kslab.portforward.endpoints import forward_isvc

        timeout = float(self.settings.timeouts.request)
        with forward_isvc(self.kube(), self.client_access(), self.settings.namespace, model_name, port=port,
                          pod=pod, ready_timeout=timeout, on_event=on_event) as forwarded:
            yield forwarded

    @contextlib.contextmanager
    def endpoint(self, model_name: str, *, port: int | None = None, pod: str | None = None,
                 on_event: EventSink | None = None) -> Iterator[Endpoint]:
        """An Endpoint on 127.0.0.1 for the catalog model's InferenceService (UsageError for a model not in the
        catalog); the port-forward stops when the block ends."""
        catalog_model(model_name)
        with self.forwarded(model_name, port=port, pod=pod, on_event=on_event) as forwarded:
            yield forwarded.endpoint
