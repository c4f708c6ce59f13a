"""Per-pod model-server metrics through the API server's pod proxy (KServe's metrics.py).

A snapshot lists the InferenceService's predictor pods, reads ``/metrics`` on each pod's port 8080
(``kserve-container``, so queue-proxy is bypassed) and keeps ``request_predict_seconds_count`` and
``_sum`` for the model, with the pod's revision (label ``serving.knative.dev/revision``; Standard
mode has none and groups by Deployment, from the ``app=isvc.<deployment>`` label). Counters are
cumulative and reset when a pod restarts, so callers compare two snapshots with ``delta``.
"""

from __future__ import annotations

from typing import Any

from kslab.errors import KslabError
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.scenarios.observers.promtext import parse, value
from kslab.scenarios.observers.stats import counter_delta

MODEL_SERVER_PORT = 8080
REVISION_LABEL = "serving.knative.dev/revision"
PREDICT_FAMILY = "request_predict_seconds"  # KServe's predict histogram (kserve/metrics.py)


def predictor_pods(kube: Kube, namespace: str, isvc: str, component: str = "predictor") -> list[dict[str, Any]]:
    pods, _ = kube.list(R.POD, namespace,
                        label_selector=f"serving.kserve.io/inferenceservice={isvc},component={component}")
    return pods


def pod_group(pod: dict[str, Any], isvc: str) -> str:
    """The Knative revision; in Standard mode the Deployment (label app=isvc.<deployment>, KServe's raw reconciler)."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    app = str(labels.get("app") or "")
    return str(labels.get(REVISION_LABEL) or (app.removeprefix("isvc.") if app.startswith("isvc.") else "")
               or f"{isvc}-predictor")


def scrape(kube: Kube, namespace: str, pod: str, model: str) -> dict[str, float | None]:
    samples = parse(kube.pod_proxy_get(pod, namespace, MODEL_SERVER_PORT, "metrics"), PREDICT_FAMILY)
    return {"count": value(samples, "request_predict_seconds_count", model_name=model),
            "sum": value(samples, "request_predict_seconds_sum", model_name=model)}


def snapshot(kube: Kube, namespace: str, isvc: str) -> dict[str, Any]:
    """{"pods": {pod: {"revision", "count", "sum"}}, "unreachable": {pod: why}} for Running predictor pods."""
    pods: dict[str, Any] = {}
    unreachable: dict[str, str] = {}
    for pod in predictor_pods(kube, namespace, isvc):
        name = pod["metadata"]["name"]
        if (pod.get("status") or {}).get("phase") != "Running":
            continue
        try:
            metrics = scrape(kube, namespace, name, isvc)
        except (KslabError, ValueError) as exc:
            unreachable[name] = getattr(exc, "message", None) or str(exc)
            continue
        pods[name] = {"revision": pod_group(pod, isvc), **metrics}
    return {"pods": pods, "unreachable": unreachable}


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per revision: requests and predict seconds added between two snapshots (new pods count from 0)."""
    out: dict[str, dict[str, float]] = {}
    for pod, now in after["pods"].items():
        then = before["pods"].get(pod) or {}
        group = out.setdefault(now["revision"], {"requests": 0.0, "predict_s": 0.0})
        group["requests"] += counter_delta(then.get("count"), now.get("count"))
        group["predict_s"] += counter_delta(then.get("sum"), now.get("sum"))
    return out
