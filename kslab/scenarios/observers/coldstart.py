"""``cold-start``: wait until the predictor has scaled to zero, send one request, time its parts.

The endpoint (port-forward) is opened first, so kubectl's start-up is not measured. Then, with every
predictor pod gone (``minReplicas: 0``, after Knative's scale-to-zero grace period), one predict request
is sent; the activator holds it while the autoscaler brings a pod back. A pod watch records when the new
pod was first seen scheduled, with its ``kserve-container`` running, and Ready (millisecond resolution);
the pod's own status timestamps (RFC 3339, whole seconds on a real cluster) are reported beside them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Any

from kslab.errors import CheckFailed
from kslab.inference.client import InferenceClient
from kslab.kube import resources as R
from kslab.kube.wait import wait_for_list
from kslab.models.entries import ColdStart
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import endpoint, instances, seconds

Obj = dict[str, Any]


def _live(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]


def _milestones(pod: Obj) -> dict[str, bool]:
    status = pod.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    running = any(cs.get("name") == "kserve-container" and "running" in (cs.get("state") or {})
                  for cs in status.get("containerStatuses") or [])
    return {"scheduled": conds.get("PodScheduled") == "True", "containers_started": running,
            "ready": conds.get("Ready") == "True"}


class PodClock:
    """Watches the predictor pods in a thread; the first moment each milestone was seen for the first new pod."""

    def __init__(self, ctx: ScenarioContext, selector: str) -> None:
        self.ctx, self.selector = ctx, selector
        self.seen: dict[str, float] = {}
        self.pod: str | None = None
        self.last: Obj | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cold-start-pods")

    def start(self, resource_version: str) -> None:
        self._version = resource_version
        self._thread.start()

    def stop(self, settle_s: float = 2.0) -> None:
        deadline = time.monotonic() + settle_s
        while "ready" not in self.seen and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        self._thread.join(3)

    def _run(self) -> None:
        kube = self.ctx.kube()
        while not self._stop.is_set():
            try:
                for kind, pod in kube.watch(R.POD, self.ctx.namespace, label_selector=self.selector,
                                            resource_version=self._version, timeout_seconds=1):
                    self._version = (pod.get("metadata") or {}).get("resourceVersion") or self._version
                    self._note(kind, pod)
                    if self._stop.is_set():
                        return
            except Exception:  # a dropped watch: continue from the last version
                if self._stop.wait(0.1):
                    return

    def _note(self, kind: str, pod: Obj) -> None:
        name = (pod.get("metadata") or {}).get("name")
        if kind == "DELETED" or (self.pod is not None and name != self.pod):
            return
        now = time.monotonic()
        self.pod = name
        self.last = pod
        self.seen.setdefault("created", now)
        for milestone, reached in _milestones(pod).items():
            if reached:
                self.seen.setdefault(milestone, now)


def _ts(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def status_timestamps(pod: Obj) -> dict[str, str | None]:
    status = pod.get("status") or {}
    conds = {c.get("type"): c.get("lastTransitionTime") for c in status.get("conditions") or []}
    started = next((((cs.get("state") or {}).get("running") or {}).get("startedAt")
                    for cs in status.get("containerStatuses") or [] if cs.get("name") == "kserve-container"), None)
    return {"created": (pod.get("metadata") or {}).get("creationTimestamp"), "scheduled": conds.get("PodScheduled"),
            "containers_started": started, "ready": conds.get("Ready")}


def observe_cold_start(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    """The measurement as a :class:`ColdStart` record entry, returned as its dict (the observer contract).
    ``name`` measures another InferenceService than the scenario's (mode-compare's serverless side)."""
    if options.get("name"):
        ctx = dataclasses.replace(ctx, isvc=str(options["name"]))
    kube = ctx.kube()
    selector = f"serving.kserve.io/inferenceservice={ctx.isvc},component=predictor"
    zero_timeout = seconds(options, "timeout", 180.0)
    request_timeout = seconds(options, "request_timeout", 300.0)
    rows = instances(options)
    with endpoint(ctx) as target:
        ctx.progress("cold-start", "wait", "for the predictor to scale to zero")
        wait_for_list(kube, R.POD, ctx.namespace, lambda pods: not _live(pods), label_selector=selector,
                      timeout=zero_timeout, what="scaled to zero (no predictor pod left; minReplicas must be 0)")
        ctx.mark("cold-start: scaled to zero")
        _, version = kube.list(R.POD, ctx.namespace, label_selector=selector)
        clock = PodClock(ctx, selector)
        clock.start(version)
        with InferenceClient(target, timeout_s=request_timeout, attempts=1) as client:
            sent_at, sent_wall = time.monotonic(), dt.datetime.now(dt.UTC)
            ctx.mark("cold-start: first request sent")
            result = client.predict(rows)
            answered = time.monotonic()
        ctx.mark("cold-start: first response")
        clock.stop()
    if not result.ok:
        raise CheckFailed(f"the first request after scale-to-zero failed: HTTP {result.status_code} {result.error}",
                          "see the revision's pods and the activator: kslab doctor")
    if clock.pod is None:
        raise CheckFailed("the first request was answered but no predictor pod was seen starting",
                          "was the predictor really at zero? check minReplicas: 0 and the scale-to-zero grace period")
    parts = {f"{k}_ms": round((clock.seen[k] - sent_at) * 1000, 1) if k in clock.seen else None
             for k in ("scheduled", "containers_started", "ready")}
    stamps = status_timestamps(clock.last or {})
    stamp_parts = {f"{k}_s": round((_ts(v) - sent_wall).total_seconds(), 3) if _ts(v) else None
                   for k, v in stamps.items() if k != "created"}
    return ColdStart(
        first_request_ms=round((answered - sent_at) * 1000, 1),
        parts={**parts, "response_ms": round((answered - sent_at) * 1000, 1)},
        pod=clock.pod, status=result.status_code, predictions=result.predictions,
        status_timestamps=stamps, status_parts_s=stamp_parts,
        note="parts are milliseconds from sending the request to first seeing the pod scheduled, its "
             "kserve-container running and Ready (pod watch); status_parts_s are the same from the pod's "
             "status timestamps, which Kubernetes keeps in whole seconds").to_dict()
