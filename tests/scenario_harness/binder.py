"""PodBinder: gives each InferenceService pod the real process behind its ports, as a kubelet would.

Follows the fake store's event log. When a pod labelled ``serving.kserve.io/inferenceservice`` is
Running, it gets a runtime from the pool: predictor pods a model server for (model name from
``--model_name``, model version from the storage URI); explainer pods what their image runs: kslab's
explainer image gets ``python -m kslab.explainer`` with the container's own arguments (its
``--predictor_host`` stays the Host header, ``--predictor_url`` sends the requests to the router, as the
Istio gateway would receive them), KServe's ART image the ART stand-in (art_explainer.py); any other
explainer image is an error (recorded, the pod never answers). Port 8080 of the pod
is registered to the runtime; Knative pods (with a queue-proxy container) also get a queue-proxy
stand-in on 8012. When the pod goes away, the ports are unregistered and the runtime released.
"""

from __future__ import annotations

import threading
from typing import Any

from kslab.stack.images import load_images
from tests.fakecluster.controllers.kserve_predictor import STORAGE_URI_ANNOTATION
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import PODS

from .forwarding import QueueProxy
from .router import QUEUE_PORT, USER_PORT
from .runtimes import ART_EXPLAINER, KSLAB_EXPLAINER, RuntimePool

KSLAB_EXPLAINER_REPOSITORY = load_images().kslab_image("explainer").image  # kslab/explainer

Obj = dict[str, Any]


def _container(pod: Obj) -> Obj:
    for container in (pod.get("spec") or {}).get("containers") or []:
        if container.get("name") == "kserve-container":
            return container
    return {}


def _arg(pod: Obj, flag: str) -> str | None:
    for arg in _container(pod).get("args") or []:
        if str(arg).startswith(f"{flag}="):
            return str(arg).split("=", 1)[1]
    return None


def _repository(image: str) -> str:
    """kslab/explainer:0.1.0 -> kslab/explainer; docker.io/kserve/art-explainer:v0.20.0 -> kserve/art-explainer."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    name = f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]
    return name.removeprefix("docker.io/")


class PodBinder:
    def __init__(self, cluster: Any, pool: RuntimePool, router_url: str, uri_versions: dict[str, str]) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.pool = pool
        self.router_url = router_url
        self.uri_versions = uri_versions  # storageUri -> model version ("v1", "v2"); others serve v1
        self.bound: dict[tuple[str, str], str] = {}  # (ns, pod) -> runtime URL
        self.errors: list[str] = []
        self._queues: dict[tuple[str, str], QueueProxy] = {}
        self._pending: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="pod-binder")

    def start(self) -> PodBinder:
        self._rv = 0
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        with self._lock:
            keys = list(self.bound)
        for ns, pod in keys:
            self._unbind(ns, pod)

    def version_for(self, pod: Obj) -> str:
        uri = ((pod["metadata"].get("annotations") or {}).get(STORAGE_URI_ANNOTATION)) or ""
        if uri.startswith("pvc://"):
            return self._pvc_model(pod["metadata"].get("namespace", ""), uri)
        return self.uri_versions.get(uri.rstrip("/"), "v1")

    def _pvc_model(self, namespace: str, uri: str) -> str:
        """A pvc:// model is served from what was copied into the claim on the fake node (kubectl cp), like the
        runtime reading the mounted volume: the pool gets that directory as a version of its own."""
        from tests.fakecluster.tools.kubectl_cp import volume_dir

        claim, _, path = uri[len("pvc://"):].partition("/")
        model_dir = volume_dir(namespace, claim) / path
        files = sorted(p.name for p in model_dir.glob("*") if p.suffix in (".joblib", ".pkl", ".pickle"))
        if len(files) != 1:  # kserve-sklearnserver refuses none or several model files
            raise RuntimeError(f"{uri}: expected one model file in the volume, found {files or 'none'}")
        from kslab.modelbuild.builder import sha256_file

        version = f"pvc:{sha256_file(model_dir / files[0])[:16]}"  # same bytes, same runtimes
        self.pool.model_dirs[version] = model_dir
        return version

    # -- loop ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        self._sync_all()
        while not self._stop.is_set():
            self.store.wait_for_change(self._rv, 0.1)
            try:
                events = self.store.events_since(self._rv, PODS.key)
            except ApiError:
                self._sync_all()
                continue
            self._rv = max([self._rv, *[e.rv for e in events]]) if events else self.store.resource_version
            for event in events:
                self._on_pod(event.type, event.object)

    def _sync_all(self) -> None:
        self._rv = self.store.resource_version
        for pod in self.store.list(PODS)[0]:
            self._on_pod("ADDED", pod)

    def _on_pod(self, kind: str, pod: Obj) -> None:
        meta = pod["metadata"]
        labels = meta.get("labels") or {}
        if labels.get("istio") == "ingressgateway" and kind != "DELETED":
            # the Istio gateway pod (seeded, or installed by `kslab up` through the fake helm): its port 80 is
            # the router, as the real gateway container would listen there
            self.cluster.node.register_proxy(meta["namespace"], meta["name"], 80, self.router_url)
            return
        if "serving.kserve.io/inferenceservice" not in labels:
            return
        key = (meta.get("namespace", ""), meta["name"])
        if kind == "DELETED" or meta.get("deletionTimestamp"):
            self._unbind(*key)
            return
        if (pod.get("status") or {}).get("phase") != "Running":
            return
        with self._lock:
            if key in self.bound or key in self._pending:
                return
            self._pending.add(key)
        threading.Thread(target=self._bind, args=(key, pod), daemon=True, name=f"bind-{meta['name']}").start()

    # -- binding -------------------------------------------------------------------------------------
    def _bind(self, key: tuple[str, str], pod: Obj) -> None:
        ns, name = key
        labels = pod["metadata"].get("labels") or {}
        isvc = labels["serving.kserve.io/inferenceservice"]
        model = _arg(pod, "--model_name") or isvc
        try:
            if labels.get("component") == "explainer":
                runtime = self._explainer(name, model, pod)
            else:
                runtime = self.pool.acquire(name, model, self.version_for(pod))
        except Exception as exc:  # recorded for the test; the pod then never answers, like a broken container
            self.errors.append(f"{ns}/{name}: {exc}")
            with self._lock:
                self._pending.discard(key)
            return
        if self.store.find(PODS, ns, name) is None or self._stop.is_set():
            self.pool.release(name)
            with self._lock:
                self._pending.discard(key)
            return
        node = self.cluster.node
        node.register_proxy(ns, name, USER_PORT, runtime.url)
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        if "queue-proxy" in containers:
            queue = QueueProxy(runtime.url).start()
            with self._lock:
                self._queues[key] = queue
            node.register_proxy(ns, name, QUEUE_PORT, queue.url)
        with self._lock:
            self.bound[key] = runtime.url
            self._pending.discard(key)
        if self.store.find(PODS, ns, name) is None:  # deleted while we registered
            self._unbind(ns, name)

    def _explainer(self, name: str, model: str, pod: Obj) -> Any:
        """The runtime of an explainer pod: what its container's image runs, with its arguments."""
        container = _container(pod)
        image = str(container.get("image") or "")
        args = [str(a) for a in container.get("args") or []]
        repository = _repository(image)
        if repository == KSLAB_EXPLAINER_REPOSITORY:
            return self.pool.acquire(name, model, KSLAB_EXPLAINER, [
                *args, "--http_port=0", "--bind_address=127.0.0.1", f"--predictor_url={self.router_url}"])
        if repository.endswith("/art-explainer"):
            return self.pool.acquire(name, model, ART_EXPLAINER, args)
        raise RuntimeError(f"no harness runtime for the explainer image {image!r} (kslab's "
                           f"{KSLAB_EXPLAINER_REPOSITORY} and KServe's art-explainer have one)")

    def _unbind(self, ns: str, name: str) -> None:
        node = self.cluster.node
        with node.lock:
            for port in (USER_PORT, QUEUE_PORT):
                node.proxies.pop((ns, name, port), None)
        with self._lock:
            self.bound.pop((ns, name), None)
            queue = self._queues.pop((ns, name), None)
        if queue is not None:
            queue.stop()
        self.pool.release(name)
