"""InferenceService status bookkeeping, mirroring KServe's status helpers (facts §4.3).

``Ready`` = PredictorReady and IngressReady; the other conditions are informational (severity
Info). Knative mode copies the ksvc's Ready/RoutesReady/ConfigurationsReady into
PredictorReady/PredictorRouteReady/PredictorConfigurationReady and keeps the rollout bookkeeping
(latestRolledoutRevision moves only when the latest ready revision gets 100 %). Model status comes
from the first predictor pod's storage-initializer / kserve-container state.
"""

from __future__ import annotations

import copy
from typing import Any

from .conditions import ConditionSet, find
from .pods import pod_is_ready

Obj = dict[str, Any]
ISVC_STATUS = ConditionSet("Ready", "PredictorReady", "IngressReady")


def predictor_status(status: Obj) -> Obj:
    return status.setdefault("components", {}).setdefault("predictor", {})


def propagate_ksvc(status: Obj, ksvc_status: Obj) -> None:
    comp = predictor_status(status)
    latest_ready = ksvc_status.get("latestReadyRevisionName", "")
    latest_created = ksvc_status.get("latestCreatedRevisionName", "")
    if latest_created:
        comp["latestCreatedRevision"] = latest_created
    traffic = ksvc_status.get("traffic") or []
    per_revision: dict[str, int] = {}
    for target in traffic:
        per_revision[target.get("revisionName", "")] = per_revision.get(target.get("revisionName", ""), 0) + int(
            target.get("percent") or 0)
    for target in traffic:
        if target.get("revisionName") != latest_ready or not target.get("latestRevision"):
            continue
        percent = int(target.get("percent") or 0)
        if comp.get("latestRolledoutRevision") != latest_ready:
            if percent == 100:
                if comp.get("latestRolledoutRevision"):
                    comp["previousRolledoutRevision"] = comp["latestRolledoutRevision"]
                comp["latestRolledoutRevision"] = latest_ready
        elif latest_ready == latest_created and percent < 100 and per_revision.get(latest_ready) == 100 \
                and comp.get("previousRolledoutRevision"):
            comp["latestRolledoutRevision"] = comp["previousRolledoutRevision"]
    if latest_ready:
        comp["latestReadyRevision"] = latest_ready
    ready = find(ksvc_status.get("conditions"), "Ready")
    if ready is not None and ready.get("status") == "True":
        if ksvc_status.get("address"):
            comp["address"] = copy.deepcopy(ksvc_status["address"])
        if ksvc_status.get("url"):
            comp["url"] = ksvc_status["url"]
    ISVC_STATUS.copy_from(status, "PredictorReady", ready)
    ISVC_STATUS.copy_from(status, "PredictorRouteReady", find(ksvc_status.get("conditions"), "RoutesReady"))
    if traffic:
        comp["traffic"] = copy.deepcopy(traffic)
    ISVC_STATUS.copy_from(status, "PredictorConfigurationReady",
                          find(ksvc_status.get("conditions"), "ConfigurationsReady"))


def propagate_cross_component(status: Obj) -> None:
    """RoutesReady and LatestDeploymentReady aggregate the per-component conditions (predictor only here)."""
    for aggregate, component in (("RoutesReady", "PredictorRouteReady"),
                                 ("LatestDeploymentReady", "PredictorConfigurationReady")):
        cond = find(status.get("conditions"), component) or {}
        value = cond.get("status", "Unknown")
        reason = "" if value == "True" else f"{component} not ready"
        ISVC_STATUS.mark(status, aggregate, value, reason)


def propagate_deployment(status: Obj, deployment: Obj | None, url: str) -> None:
    """PredictorReady from the predictor Deployment's conditions (Standard/RawDeployment mode)."""
    conds = (deployment or {}).get("status", {}).get("conditions") or []
    available, progressing = find(conds, "Available"), find(conds, "Progressing")
    value, reason, message = "False", "", ""
    if available and available.get("status") == "True":
        value, reason, message = "True", available.get("reason", ""), available.get("message", "")
    if progressing:
        if progressing.get("status") == "False" and progressing.get("message"):
            value, reason, message = "False", progressing.get("reason", ""), progressing.get("message", "")
        elif progressing.get("status") == "True":
            if progressing.get("reason") == "NewReplicaSetAvailable":
                value, reason, message = "True", progressing.get("reason", ""), progressing.get("message", "")
            elif not (available and available.get("status") == "True"):
                value, reason, message = "Unknown", progressing.get("reason", ""), progressing.get("message", "")
    if available and available.get("status") == "False":
        value, reason, message = "False", available.get("reason", ""), available.get("message", "")
    failure = find(conds, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        value, reason, message = "False", failure.get("reason", ""), failure.get("message", "")
    comp = predictor_status(status)
    if value == "True":
        comp["url"] = url
    ISVC_STATUS.mark(status, "PredictorReady", value, reason, message)


def _states(status: Obj, state: str, failure: Obj | None = None) -> None:
    model = status.setdefault("modelStatus", {})
    states = model.setdefault("states", {"activeModelState": ""})
    states["targetModelState"] = state
    model["transitionStatus"] = {"Pending": "InProgress", "Loading": "InProgress", "Loaded": "UpToDate",
                                 "FailedToLoad": "BlockedByFailedLoad"}.get(state, model.get("transitionStatus"))
    if state == "Loaded":
        states["activeModelState"] = "Loaded"
    if failure is not None:
        model["lastFailureInfo"] = failure


def invalid_spec(status: Obj, reason: str, message: str) -> None:
    """UpdateModelTransitionStatus(InvalidSpec, ...) as the predictor does on runtime errors."""
    model = status.setdefault("modelStatus", {})
    model["transitionStatus"] = "InvalidSpec"
    model.setdefault("states", {"activeModelState": ""})["targetModelState"] = "FailedToLoad"
    model["lastFailureInfo"] = {"reason": reason, "message": message}


def propagate_model(status: Obj, pods: list[Obj], raw: bool, ksvc_status: Obj | None) -> None:
    model = status.setdefault("modelStatus", {})
    model["copies"] = {"failedCopies": 0, "totalCopies": sum(1 for p in pods if pod_is_ready(p))}
    if not pods:
        if not raw and any(c.get("status") == "False" for c in (ksvc_status or {}).get("conditions") or []):
            _states(status, "FailedToLoad")
        else:
            _states(status, "Pending")
        return
    first = pods[0].get("status") or {}
    for cs in first.get("initContainerStatuses") or []:
        if cs.get("name") != "storage-initializer":
            continue
        state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated")
        if "running" in state:
            if last is None:
                _states(status, "Loading")
            return
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("reason") == "Error":
            _states(status, "FailedToLoad", {"reason": "ModelLoadFailed", "message": terminated.get("message", ""),
                                             "exitCode": terminated.get("exitCode", 1)})
            return
        if waiting and waiting.get("reason") == "CrashLoopBackOff" and last:
            _states(status, "FailedToLoad", {"reason": "ModelLoadFailed", "message": last.get("message", ""),
                                             "exitCode": last.get("exitCode", 1)})
            return
    comp = predictor_status(status)
    if ISVC_STATUS.is_happy(status) and (raw or comp.get("latestCreatedRevision") == comp.get("latestReadyRevision")):
        _states(status, "Loaded")
        return
    for cs in first.get("containerStatuses") or []:
        if cs.get("name") != "kserve-container":
            continue
        state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated") or {}
        if (state.get("terminated") or {}).get("reason") == "Error":
            _states(status, "FailedToLoad", {"reason": "ModelLoadFailed",
                                             "message": state["terminated"].get("message", ""),
                                             "exitCode": state["terminated"].get("exitCode", 1)})
        elif (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
            _states(status, "FailedToLoad", {"reason": "ModelLoadFailed", "message": last.get("message", ""),
                                             "exitCode": last.get("exitCode", 1)})
        else:
            _states(status, "Pending")
