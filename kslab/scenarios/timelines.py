"""ScenarioTimelines: background watches that record how the InferenceService and its pods evolved.

Three watch threads (``Kube.watch``), all in the scenario's time base (``t_s`` = seconds since the
scenario started, like ``ctx.mark`` events and load results):

- the InferenceService: every change of a condition (type, status, reason) and of
  ``status.components.predictor.traffic``;
- the namespace's InferenceService Deployments (``serving.kserve.io/inferenceservice`` label; Knative
  ``<revision>-deployment``, Standard ``<isvc>-predictor``): ready and desired replicas on change;
- the InferenceService's pods: phase and readiness on change.

``start`` publishes the live dict as ``ctx.result["timelines"]`` (observers such as ``replicas`` read
it while the scenario runs); ``stop`` ends the watches within about a second and returns a copy.
Watches use short server timeouts so a stop (or ``ctx.stop``) is noticed promptly; a 410 or a dropped
stream re-lists and continues.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kslab.errors import KslabError
from kslab.kube import resources as R
from kslab.kube.resources import ResourceRef
from kslab.scenarios.context import ScenarioContext

Obj = dict[str, Any]
WATCH_SECONDS = 1
ISVC_LABEL = "serving.kserve.io/inferenceservice"


class ScenarioTimelines:
    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = {"conditions": [], "traffic": [], "replicas": [], "pods": []}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._ctx: ScenarioContext | None = None
        self._last_conditions: dict[str, tuple[Any, Any]] = {}
        self._last_traffic: Any = None
        self._last_replicas: dict[str, tuple[int, int]] = {}
        self._last_pods: dict[str, tuple[Any, bool]] = {}

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, ctx: ScenarioContext) -> None:
        self._ctx = ctx
        ctx.result["timelines"] = self.data
        watches: list[tuple[str, ResourceRef, dict[str, Any], Callable[[str, Obj], None]]] = [
            ("isvc", R.INFERENCE_SERVICE, {"name": ctx.isvc}, self._on_isvc),
            ("deployments", R.DEPLOYMENT, {"label_selector": ISVC_LABEL}, self._on_deployment),
            ("pods", R.POD, {"label_selector": f"{ISVC_LABEL}={ctx.isvc}"}, self._on_pod),
        ]
        for what, ref, selector, handler in watches:
            thread = threading.Thread(target=self._follow, args=(ref, selector, handler), daemon=True,
                                      name=f"timeline-{what}")
            thread.start()
            self._threads.append(thread)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        for thread in self._threads:
            thread.join(WATCH_SECONDS + 2)
        with self._lock:
            out: dict[str, Any] = copy.deepcopy(self.data)
        if self.errors:
            out["errors"] = list(self.errors[-5:])
        return out

    def _stopped(self) -> bool:
        return self._stop.is_set() or (self._ctx is not None and self._ctx.stop.is_set())

    # -- watching -----------------------------------------------------------------------------
    def _events(self, ref: ResourceRef, selector: dict[str, Any]) -> Iterator[tuple[str, Obj]]:
        """List (as ADDED events), then watch from the list's resourceVersion until stopped."""
        assert self._ctx is not None
        kube = self._ctx.kube()
        name = selector.get("name")
        items, version = kube.list(ref, self._ctx.namespace, label_selector=selector.get("label_selector"),
                                   field_selector=f"metadata.name={name}" if name else None)
        for item in items:
            yield "ADDED", item
        while not self._stopped():
            for kind, obj in kube.watch(ref, self._ctx.namespace, resource_version=version,
                                        timeout_seconds=WATCH_SECONDS, **selector):
                version = (obj.get("metadata") or {}).get("resourceVersion") or version
                if kind != "BOOKMARK":
                    yield kind, obj
                if self._stopped():
                    return

    def _follow(self, ref: ResourceRef, selector: dict[str, Any], handler: Callable[[str, Obj], None]) -> None:
        failures = 0
        while not self._stopped():
            try:
                for kind, obj in self._events(ref, selector):
                    handler(kind, obj)
                    failures = 0
            except KslabError as exc:  # 410 Gone, API hiccups: re-list after a short pause
                failures += 1
                self.errors.append(f"{ref.plural}: {exc.message}")
                if self._stop.wait(min(0.2 * failures, 2.0)):
                    return
            except Exception as exc:  # a broken stream must not kill the scenario; record and retry
                failures += 1
                self.errors.append(f"{ref.plural}: {type(exc).__name__}: {exc}")
                if self._stop.wait(min(0.2 * failures, 2.0)):
                    return

    def _t(self) -> float:
        assert self._ctx is not None
        return round(time.monotonic() - self._ctx.started, 3)

    def _append(self, key: str, row: dict[str, Any]) -> None:
        with self._lock:
            self.data[key].append({"t_s": self._t(), **row})

    # -- handlers -----------------------------------------------------------------------------
    def _on_isvc(self, kind: str, obj: Obj) -> None:
        status = {} if kind == "DELETED" else obj.get("status") or {}
        for cond in status.get("conditions") or []:
            kind_name = str(cond.get("type"))
            value = (cond.get("status"), cond.get("reason"))
            if self._last_conditions.get(kind_name) != value:
                self._last_conditions[kind_name] = value
                self._append("conditions", {"type": kind_name, "status": value[0], "reason": value[1]})
        if kind == "DELETED":
            self._last_conditions.clear()
            self._append("conditions", {"type": "Deleted", "status": "True", "reason": None})
        traffic = [{"revisionName": t.get("revisionName"), "percent": t.get("percent"), "tag": t.get("tag"),
                    "latestRevision": t.get("latestRevision")}
                   for t in ((status.get("components") or {}).get("predictor") or {}).get("traffic") or []]
        if traffic != self._last_traffic and (traffic or self._last_traffic):
            self._last_traffic = traffic
            self._append("traffic", {"targets": traffic})

    def _on_deployment(self, kind: str, obj: Obj) -> None:
        name = str(obj["metadata"]["name"])
        if kind == "DELETED":
            value = (0, 0)
        else:
            value = (int((obj.get("status") or {}).get("readyReplicas") or 0),
                     int((obj.get("spec") or {}).get("replicas") or 0))
        if self._last_replicas.get(name) != value:
            self._last_replicas[name] = value
            self._append("replicas", {"name": name, "ready": value[0], "desired": value[1]})

    def _on_pod(self, kind: str, obj: Obj) -> None:
        name = str(obj["metadata"]["name"])
        status = obj.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        value = ("Deleted", False) if kind == "DELETED" else (status.get("phase"), ready)
        if self._last_pods.get(name) != value:
            self._last_pods[name] = value
            self._append("pods", {"name": name, "phase": value[0], "ready": value[1]})
