"""The harness router: what the Istio ingress gateway + Knative activator do, in front of real runtimes.

Registered as the istio-ingressgateway pod's port-80 target, so ``kubectl port-forward
svc/istio-ingressgateway`` (kslab's managed endpoint) reaches it. Per request it reads the fake store
live, like Istio reading VirtualServices:

- Host → InferenceService: ``status.url`` / ``status.address.url`` hosts (``:explain`` paths go to the
  explainer, as KServe's top-level VirtualService does), each Knative Service's own hosts (route host,
  ``*.svc.cluster.local``, ``<name>.<ns>``), tag hosts from ``status.traffic[].url``; Standard mode
  hosts once the Ingress exists. Anything else: the empty 404 of ``istio-envoy`` (facts §8).
- Knative: a revision chosen by the **configured** percent of ``status.traffic`` (``split_skew_points``
  moves that many points to the latest revision, for failure tests), then a Ready pod of that revision
  whose queue-proxy (8012) is registered. With no such pod the request is held (activator) until one
  is Ready or ``activator_timeout_s`` passes (503).
- Fault knobs keyed by revision name (tests only): ``slow_revisions[rev] = seconds`` holds each request routed
  to ``rev`` that long before forwarding it; ``error_revisions[rev] = share`` answers that share of them 500
  ``{"error": ...}`` (seeded RNG) without forwarding, as a failing model server would answer.
- In-flight requests per InferenceService, averaged over ``load_window_s``, go to
  ``cluster.controllers.set_load`` (the simulated KPA) unless ``freeze_autoscaler`` is set.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.fakecluster.controllers.pods import pod_is_ready
from tests.fakecluster.resources import INGRESSES, ISVCS, KSVCS, PODS

from .forwarding import Answer, ForwardingHandler, ForwardingServer

Obj = dict[str, Any]
QUEUE_PORT, USER_PORT = 8012, 8080


def _host(url: str | None) -> str | None:
    return urllib.parse.urlsplit(url).hostname if url else None


@dataclass(frozen=True)
class Target:
    namespace: str
    isvc: str
    knative: bool
    name: str  # ksvc name (Knative) or Deployment / app label value (Standard)
    tag: str | None = None


class Router(ForwardingServer):
    def __init__(self, cluster: Any, seed: int = 1) -> None:
        super().__init__()
        self.cluster = cluster
        self.store = cluster.store
        self.split_skew_points = 0.0
        self.freeze_autoscaler = False
        self.activator_timeout_s = 60.0
        self.load_window_s = 0.5
        self.slow_revisions: dict[str, float] = {}  # revision -> seconds added to each request routed to it
        self.error_revisions: dict[str, float] = {}  # revision -> share of its requests answered 500
        self.routed: dict[tuple[str, str], int] = {}  # (namespace, revision or deployment) -> requests sent
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, str], int] = {}
        self._per_pod: dict[str, int] = {}
        self._samples: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self._sent: dict[tuple[str, str], float] = {}
        self._closing = threading.Event()
        self._feeder = threading.Thread(target=self._feed_load, daemon=True, name="router-load-feeder")

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Router:
        super().start()
        self._feeder.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        super().stop()
        self._feeder.join(2)

    # -- host resolution ---------------------------------------------------------------------------
    def resolve(self, host: str, path: str) -> Target | None:
        for isvc in self.store.list(ISVCS)[0]:
            ns, name = isvc["metadata"]["namespace"], isvc["metadata"]["name"]
            status = isvc.get("status") or {}
            predictor_ksvc = self.store.find(KSVCS, ns, f"{name}-predictor")
            component = "explainer" if path.split("?")[0].endswith(":explain") else "predictor"
            top = {_host(status.get("url")), _host((status.get("address") or {}).get("url")),
                   f"{name}.{ns}", f"{name}.{ns}.svc"}
            if predictor_ksvc is not None:
                if host in top:
                    return Target(ns, name, True, f"{name}-{component}")
                for comp in ("predictor", "explainer"):
                    ksvc = predictor_ksvc if comp == "predictor" else self.store.find(KSVCS, ns, f"{name}-{comp}")
                    found = self._ksvc_host(ksvc, host) if ksvc is not None else None
                    if found is not None:
                        return Target(ns, name, True, ksvc["metadata"]["name"], found or None)
            elif self.store.find(INGRESSES, ns, name) is not None:
                comp_url = ((status.get("components") or {}).get(component) or {}).get("url")
                if host in top or host == _host(comp_url):
                    return Target(ns, name, False, f"isvc.{name}-{component}")
        return None

    @staticmethod
    def _ksvc_host(ksvc: Obj, host: str) -> str | None:
        """'' when ``host`` addresses the whole ksvc, the tag when it addresses a tagged target, else None."""
        status, name, ns = ksvc.get("status") or {}, ksvc["metadata"]["name"], ksvc["metadata"]["namespace"]
        own = {_host(status.get("url")), _host((status.get("address") or {}).get("url")), f"{name}.{ns}",
               f"{name}.{ns}.svc"}
        if host in own:
            return ""
        for target in status.get("traffic") or []:
            if target.get("tag") and host == _host(target.get("url")):
                return str(target["tag"])
        return None

    # -- choosing a backend ------------------------------------------------------------------------
    def choose_revision(self, target: Target) -> str | None:
        ksvc = self.store.find(KSVCS, target.namespace, target.name)
        traffic = [t for t in ((ksvc or {}).get("status") or {}).get("traffic") or [] if t.get("revisionName")]
        if target.tag:
            traffic = [t for t in traffic if t.get("tag") == target.tag]
            return str(traffic[0]["revisionName"]) if traffic else None
        weights = [float(t.get("percent") or 0) for t in traffic]
        if not traffic or sum(weights) <= 0:
            return None
        skew = self.split_skew_points if target.name.endswith("-predictor") else 0.0
        latest = [i for i, t in enumerate(traffic) if t.get("latestRevision")]
        if skew and latest and len(traffic) > 1:
            i = latest[0]
            new_latest = min(100.0, max(0.0, weights[i] + skew))
            rest = sum(w for j, w in enumerate(weights) if j != i)
            weights = [new_latest if j == i else (w / rest * (100.0 - new_latest) if rest else 0.0)
                       for j, w in enumerate(weights)]
        with self._lock:
            pick = self._rng.uniform(0, sum(weights))
        for t, w in zip(traffic, weights, strict=True):
            pick -= w
            if pick <= 0:
                return str(t["revisionName"])
        return str(traffic[-1]["revisionName"])

    def _ready_backend(self, namespace: str, selector: str, port: int) -> tuple[str, str] | None:
        pods = [p for p in self.store.list(PODS, namespace, label_selector=selector)[0] if pod_is_ready(p)]
        candidates = []
        for pod in pods:
            name = pod["metadata"]["name"]
            url = self.cluster.node.proxy_target(namespace, name, port)
            if url:
                candidates.append((name, url))
        if not candidates:
            return None
        with self._lock:
            return min(candidates, key=lambda c: self._per_pod.get(c[0], 0))

    def _backend(self, target: Target) -> tuple[str, str, str] | Answer:
        """(pod, url, revision-or-deployment), holding the request while nothing is Ready (activator)."""
        deadline = time.monotonic() + self.activator_timeout_s
        if target.knative:  # Istio picks the revision once; the activator then waits for one of its pods
            key = self.choose_revision(target) or ""
            if not key:
                return Answer(503, b"no healthy upstream", "text/plain")
            selector, port = f"serving.knative.dev/revision={key}", QUEUE_PORT
        else:
            key, selector, port = target.name, f"app={target.name}", USER_PORT
        while not self._closing.is_set():
            found = self._ready_backend(target.namespace, selector, port)
            if found is not None:
                return found[0], found[1], key
            if time.monotonic() >= deadline or not target.knative:
                break
            time.sleep(0.02)
        return Answer(503, b"no healthy upstream", "text/plain")

    # -- serving -------------------------------------------------------------------------------------
    def answer(self, handler: ForwardingHandler, body: bytes | None) -> Answer:
        host = urllib.parse.urlsplit("//" + (handler.headers.get("Host") or "")).hostname or ""
        target = self.resolve(host, handler.path)
        if target is None:
            return Answer(404, b"", "text/plain")
        key = (target.namespace, target.isvc)
        self._adjust(key, +1)
        try:
            chosen = self._backend(target)
            if isinstance(chosen, Answer):
                return chosen
            pod, url, routed_to = chosen
            with self._lock:
                self._per_pod[pod] = self._per_pod.get(pod, 0) + 1
                self.routed[(target.namespace, routed_to)] = self.routed.get((target.namespace, routed_to), 0) + 1
            try:
                injected = self._inject(routed_to)
                return injected if injected is not None else self.forward(url, handler, body)
            finally:
                with self._lock:
                    self._per_pod[pod] -= 1
        finally:
            self._adjust(key, -1)

    def _inject(self, revision: str) -> Answer | None:
        """The fault knobs of ``revision``: its added latency, then (for its share) a 500 instead of an answer."""
        delay = self.slow_revisions.get(revision, 0.0)
        if delay > 0:
            time.sleep(delay)
        share = self.error_revisions.get(revision, 0.0)
        if share > 0:
            with self._lock:
                hit = self._rng.random() < share
            if hit:
                return Answer(500, b'{"error": "injected by the harness: error_revisions"}')
        return None

    # -- load → simulated KPA ---------------------------------------------------------------------
    def _adjust(self, key: tuple[str, str], delta: int) -> None:
        with self._lock:
            self._inflight[key] = self._inflight.get(key, 0) + delta
            self._samples.setdefault(key, deque()).append((time.monotonic(), self._inflight[key]))

    def inflight(self, namespace: str, isvc: str) -> int:
        with self._lock:
            return self._inflight.get((namespace, isvc), 0)

    def average_load(self, key: tuple[str, str], now: float) -> float:
        """Time-weighted in-flight requests over the last ``load_window_s`` seconds."""
        with self._lock:
            samples = self._samples.get(key) or deque()
            start = now - self.load_window_s
            while len(samples) > 1 and samples[1][0] <= start:
                samples.popleft()
            total, previous_t = 0.0, start
            level = samples[0][1] if samples and samples[0][0] <= start else 0
            for t, value in samples:
                if t <= start:
                    level = value
                    continue
                total += level * (t - previous_t)
                previous_t, level = t, value
            total += level * (now - previous_t)
            return total / self.load_window_s

    def _feed_load(self) -> None:
        while not self._closing.wait(0.05):
            if self.freeze_autoscaler or self.cluster.controllers is None:
                continue
            now = time.monotonic()
            with self._lock:
                keys = list(self._samples)
            for key in keys:
                load = round(self.average_load(key, now), 2)
                if abs(load - self._sent.get(key, 0.0)) >= 0.05 or (load == 0 and self._sent.get(key)):
                    self._sent[key] = load
                    self.cluster.controllers.set_load(key[0], key[1], load)
