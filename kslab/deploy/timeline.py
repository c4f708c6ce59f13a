"""The conditions timeline of one InferenceService: every observed change, with a timestamp.

A ConditionTimeline is the ``on_change`` of kslab.kube.wait.wait_for: it records each condition whose
status/reason/message changed (plus modelStatus.transitionStatus) and forwards the change to an observer
(component, phase, detail), which the CLI renders live. ``outcome`` decides when waiting is over.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from kslab.kube.conditions import condition, condition_is, conditions, is_current

Obj = dict[str, Any]
Observer = Callable[[str, str, str], None]
# Ready=False with these reasons is a rollout in progress (Standard mode reports the Deployment's
# Available=False until the pods are up, and IngressReady=False until the predictor is ready), not a failure.
PROGRESSING_REASONS = frozenset({"MinimumReplicasUnavailable", "ReplicaSetUpdated", "NewReplicaSetCreated",
                                 "FoundNewReplicaSet", "Predictor ingress not created"})
FAILED_MODEL_STATES = frozenset({"InvalidSpec", "BlockedByFailedLoad"})  # KServe gave up (status.go)
_PHASES = {"True": "ready", "False": "failed", "Unknown": "waiting"}
_STOPPED_PHASES = {"False": "ready", "True": "failed"}  # Stopped=False is the healthy state (0.15.1+)
_MODEL_PHASES = {"UpToDate": "ready", "InvalidSpec": "failed", "BlockedByFailedLoad": "failed"}


def outcome(obj: Obj | None) -> str | None:
    """'ready', 'failed', or None while still rolling out. Both need the status to describe the latest spec."""
    if obj is None or not is_current(obj):
        return None
    if condition_is(obj, "Ready"):
        return "ready"
    transition = (((obj.get("status") or {}).get("modelStatus")) or {}).get("transitionStatus")
    if transition in FAILED_MODEL_STATES:
        return "failed"
    if condition_is(obj, "Ready", "False"):
        for kind in ("PredictorReady", "IngressReady"):
            cond = condition(obj, kind)
            if cond is not None and cond.get("status") == "False":
                reason = str(cond.get("reason") or "")  # no reason yet: the Deployment has no conditions
                return None if not reason or reason in PROGRESSING_REASONS else "failed"
    return None


def failure_summary(obj: Obj) -> str:
    """'modelStatus BlockedByFailedLoad' or 'Ready=False, RevisionMissing' for an object ``outcome`` failed."""
    transition = (((obj.get("status") or {}).get("modelStatus")) or {}).get("transitionStatus")
    if transition in FAILED_MODEL_STATES:
        return f"modelStatus {transition}"
    ready = condition(obj, "Ready") or {}
    return f"Ready={ready.get('status', 'Unknown')}" + (f", {ready['reason']}" if ready.get("reason") else "")


class ConditionTimeline:
    def __init__(self, observer: Observer | None = None) -> None:
        self.observer = observer or (lambda *_: None)
        self.entries: list[dict[str, Any]] = []
        self._last: dict[str, tuple[str, str, str]] = {}
        self._start = time.monotonic()
        self.last_object: Obj | None = None

    def _record(self, kind: str, status: str, reason: str, message: str, phase: str) -> None:
        if self._last.get(kind) == (status, reason, message):
            return
        self._last[kind] = (status, reason, message)
        self.entries.append({"at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                             "elapsed_s": round(time.monotonic() - self._start, 3), "type": kind,
                             "status": status, "reason": reason, "message": message})
        detail = ": ".join(p for p in (reason, message) if p)
        self.observer(kind, phase, detail or status)

    def __call__(self, obj: Obj | None) -> None:
        self.last_object = obj
        if obj is None:
            self._record("InferenceService", "absent", "", "not there yet", "waiting")
            return
        for cond in conditions(obj):
            status, kind = str(cond.get("status", "")), str(cond.get("type"))
            phases = _STOPPED_PHASES if kind == "Stopped" else _PHASES
            self._record(kind, status, str(cond.get("reason") or ""), str(cond.get("message") or ""),
                         phases.get(status, "waiting"))
        transition = (((obj.get("status") or {}).get("modelStatus")) or {}).get("transitionStatus")
        if transition:
            self._record("ModelStatus", str(transition), "", "", _MODEL_PHASES.get(str(transition), "waiting"))
