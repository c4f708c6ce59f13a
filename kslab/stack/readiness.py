"""Wait for a component's ReadyChecks with watches (pods Ready, endpoints, Available, conditions)."""

from __future__ import annotations

from typing import Any

from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import condition, condition_is
from kslab.kube.resources import ResourceRef
from kslab.kube.wait import wait_for, wait_for_list
from kslab.stack.components import ReadyCheck

Obj = dict[str, Any]
_BY_PLURAL = {ref.plural: ref for ref in vars(R).values() if isinstance(ref, ResourceRef)}
_BY_PLURAL["knativeservings"] = R.KNATIVE_SERVING
_BY_PLURAL["services"] = R.SERVICE


def pod_ready(pod: Obj) -> bool:
    return condition_is(pod, "Ready") and (pod.get("status") or {}).get("phase") == "Running"


def endpoints_ready(endpoints: Obj | None) -> bool:
    return any(subset.get("addresses") for subset in (endpoints or {}).get("subsets") or [])


def _pods_summary(pods: list[Obj]) -> str:
    if not pods:
        return "no pods match"
    parts = []
    for pod in pods:
        status = pod.get("status") or {}
        why = (condition(pod, "PodScheduled") or {}).get("message") or status.get("phase", "?")
        parts.append(f"{pod['metadata']['name']}: {'Ready' if pod_ready(pod) else why}")
    return "; ".join(parts)


def wait_ready(kube: Kube, check: ReadyCheck, timeout: float) -> None:
    """Block until ``check`` holds, or raise WaitTimeout naming what was awaited."""
    if check.kind == "pods":
        wait_for_list(kube, R.POD, check.namespace, lambda pods: bool(pods) and all(pod_ready(p) for p in pods),
                      label_selector=check.target, timeout=timeout, what="Ready", describe=_pods_summary)
    elif check.kind == "endpoints":
        wait_for(kube, R.ENDPOINTS, check.target, check.namespace, endpoints_ready, timeout=timeout,
                 what="serving (ready endpoint addresses)")
    elif check.kind == "deployment":
        wait_for(kube, R.DEPLOYMENT, check.target, check.namespace, lambda o: condition_is(o, "Available"),
                 timeout=timeout, what="Available")
    elif check.kind == "condition":
        ref = _BY_PLURAL[check.resource or ""]
        wait_for(kube, ref, check.target, check.namespace, lambda o: condition_is(o, check.condition or "Ready"),
                 timeout=timeout, what=check.condition or "Ready")
    else:
        ref = _BY_PLURAL[check.resource or ""]
        wait_for(kube, ref, check.target, check.namespace, lambda o: o is not None, timeout=timeout,
                 what="present")


def is_ready_now(kube: Kube, check: ReadyCheck) -> bool:
    """One read, no waiting: does ``check`` hold right now?"""
    if check.kind == "pods":
        pods = kube.list(R.POD, check.namespace, label_selector=check.target)[0]
        return bool(pods) and all(pod_ready(p) for p in pods)
    if check.kind == "endpoints":
        return endpoints_ready(kube.find(R.ENDPOINTS, check.target, check.namespace))
    if check.kind == "deployment":
        return condition_is(kube.find(R.DEPLOYMENT, check.target, check.namespace), "Available")
    ref = _BY_PLURAL[check.resource or ""]
    obj = kube.find(ref, check.target, check.namespace)
    if check.kind == "condition":
        return condition_is(obj, check.condition or "Ready")
    return obj is not None
