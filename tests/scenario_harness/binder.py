"""PodBinder: gives each InferenceService pod the real process behind its ports, as a kubelet would.

Follows the fake store's event log. When a pod labelled ``serving.kserve.io/inferenceservice`` is
Running, it gets a runtime from the pool: predictor pods a model server for (model name from
``--model_name``, model version from the storage URI), explainer pods the harness explainer (with the
container's ``--predictor_host`` as the Host it sends predictor requests with). Port 8080 of the pod
is registered to the runtime; Knative pods (with a queue-proxy container) also get a queue-proxy
stand-in on 8012. When the pod goes away, the ports are unregistered and the runtime released.
"""

from __future__ import annotations

import threading
from typing import Any

from tests.fakecluster.controllers.kserve_predictor import STORAGE_URI_ANNOTATION
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import PODS

from .forwarding import QueueProxy
from .router import QUEUE_PORT, USER_PORT
from .runtimes import RuntimePool

Obj = dict[str, Any]


def _arg(pod: Obj, flag: str) -> str | None:
    for container in (pod.get("spec") or {}).get("containers") or []:
        if container.get("name") != "kserve-container":
            continue
        for arg in container.get("args") or []:
            if str(arg).startswith(f"{flag}="):
                return str(arg).split("=", 1)[1]
    return None


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
        return self.uri_versions.get(uri.rstrip("/"), "v1")

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
                predictor_host = _arg(pod, "--predictor_host") or f"{isvc}-predictor.{ns}"
                runtime = self.pool.acquire(name, model, "explainer",
                                            ["--predictor-url", self.router_url, "--predictor-host", predictor_host])
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
