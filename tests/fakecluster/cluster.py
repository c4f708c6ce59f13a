"""FakeCluster: the store, the HTTP API server and the simulated controllers, started together.

A test gets one from the ``fake_cluster`` fixture (tests/conftest.py). It exposes the server URL, a
kubeconfig pointing at it, the store (to seed or inspect objects directly), the fault injector, the
simulated controllers' knobs, and the node-side facts the API server needs for pods: container logs
and where ``pods/<pod>:<port>/proxy/...`` requests are forwarded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .crd_validation import CrdValidation
from .resources import by_key
from .store import Store


@dataclass
class NodeRuntime:
    """What a kubelet would know: container logs and reachable pod ports."""

    logs: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (ns, pod, container) -> text
    proxies: dict[tuple[str, str, int], str] = field(default_factory=dict)  # (ns, pod, port) -> base URL
    images: dict[str, str] = field(default_factory=dict)  # image loaded on the node -> its local bin dir
    services: dict[str, str] = field(default_factory=dict)  # cluster DNS host -> local base URL
    present: set[str] = field(default_factory=set)  # images on the node that run as simulated containers
    image_sources: list[Callable[[], Iterable[str]]] = field(default_factory=list)  # e.g. fake kind's loads
    lock: threading.Lock = field(default_factory=threading.Lock)

    def append_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        with self.lock:
            key = (namespace, pod, container)
            self.logs[key] = self.logs.get(key, "") + text

    def log(self, namespace: str, pod: str, container: str) -> str | None:
        with self.lock:
            return self.logs.get((namespace, pod, container))

    def register_proxy(self, namespace: str, pod: str, port: int, base_url: str) -> None:
        with self.lock:
            self.proxies[(namespace, pod, port)] = base_url.rstrip("/")

    def proxy_target(self, namespace: str, pod: str, port: int) -> str | None:
        with self.lock:
            return self.proxies.get((namespace, pod, port))

    def load_image(self, image: str, bin_dir: str) -> None:
        """Like ``kind load docker-image``: pods of ``image`` really run, their PATH starting at ``bin_dir``
        (controllers/container_runs.py)."""
        with self.lock:
            self.images[image] = bin_dir

    def add_image(self, image: str) -> None:
        """An image on the node whose pods are simulated (not run): what ``kind load`` of any image gives."""
        with self.lock:
            self.present.add(image)

    def has_image(self, image: str) -> bool:
        """On the node: loaded here, or by a fake tool whose state ``image_sources`` reads (names normalised)."""
        from .controllers.image_pulls import full_reference

        with self.lock:
            local, sources = [*self.images, *self.present], list(self.image_sources)
        wanted = full_reference(image)
        return any(full_reference(ref) == wanted for ref in local) or any(
            full_reference(ref) == wanted for source in sources for ref in source())

    def image_bin(self, image: str) -> str | None:
        with self.lock:
            return self.images.get(image)

    def register_service(self, host: str, base_url: str) -> None:
        """Cluster DNS + Service VIP for pods the node runs: ``host`` (any port) answers at ``base_url``."""
        with self.lock:
            self.services[host] = base_url.rstrip("/")

    def service_map(self) -> dict[str, str]:
        with self.lock:
            return dict(self.services)


class FakeCluster:
    """One fake Kubernetes cluster on 127.0.0.1 (random port)."""

    def __init__(self, *, kubernetes_version: str = "v1.34.0", node_name: str = "kslab-control-plane",
                 controllers: bool = True, history: int = 2000) -> None:
        from .faults import FaultInjector

        self.kubernetes_version = kubernetes_version
        self.node_name = node_name
        self.store = Store(history=history)
        self.node = NodeRuntime()
        self.faults = FaultInjector()
        self._want_controllers = controllers
        self.controllers: Any = None
        self._server: Any = None
        # CRD schemas (pruning, 422 Invalid) for the KServe version the controllers run; without controllers
        # `kserve_version` (None: crd_validation.DEFAULT_KSERVE) picks the CRDs
        self.kserve_version: str | None = None
        self.crds = CrdValidation(self._crd_version)
        self.store.admission.extend(self.crds.hooks())
        self._seed()

    def _crd_version(self) -> str | None:
        settings = getattr(self.controllers, "settings", None)
        return settings.kserve_version if settings is not None else self.kserve_version

    def _seed(self) -> None:
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create(by_key("/namespaces"), None, {"metadata": {"name": ns}})
        self.store.create(by_key("/nodes"), None, {
            "metadata": {"name": self.node_name, "labels": {
                "kubernetes.io/hostname": self.node_name, "node-role.kubernetes.io/control-plane": ""}},
            "spec": {},
            "status": {
                "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"},
                "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "nodeInfo": {"kubeletVersion": self.kubernetes_version, "containerRuntimeVersion": "containerd://2.1.1",
                             "osImage": "Debian GNU/Linux 12 (bookworm)", "architecture": "amd64"},
            },
        }, keep_status=True)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("fake cluster not started")
        return self._server.url

    @property
    def server(self) -> Any:
        """The running ApiServer: ``requests(method, contains)``, ``request_log``, ``clear_log()``."""
        if self._server is None:
            raise RuntimeError("fake cluster not started")
        return self._server

    def start(self) -> FakeCluster:
        from .server import ApiServer

        self._server = ApiServer(self)
        self._server.start()
        self.forget_client_discovery()
        if self._want_controllers:
            from .controllers import ControllerManager

            self.controllers = ControllerManager(self)
            self.controllers.start()
        return self

    def forget_client_discovery(self) -> None:
        """Remove the kubernetes client's on-disk discovery cache for this address (``osrcp-<md5(host)>.json`` in
        the temp dir): a new server on a port an earlier test used must be discovered afresh, as a new cluster
        would be, or a test that counts API requests sees fewer than it should."""
        import hashlib
        import tempfile

        name = f"osrcp-{hashlib.md5(self.url.encode('utf-8'), usedforsecurity=False).hexdigest()}.json"
        Path(tempfile.gettempdir(), name).unlink(missing_ok=True)

    def stop(self) -> None:
        if self.controllers is not None:
            self.controllers.stop()
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> FakeCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- client configuration ----------------------------------------------------------------
    def kubeconfig(self, context: str = "kind-kslab", namespace: str | None = None) -> dict[str, Any]:
        ctx: dict[str, Any] = {"cluster": context, "user": context}
        if namespace:
            ctx["namespace"] = namespace
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {}}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
        }

    def write_kubeconfig(self, path: Path, context: str = "kind-kslab", namespace: str | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig(context, namespace), sort_keys=False))
        return path
