"""From an InferenceService to an Endpoint on 127.0.0.1 through a port-forward.

Addresses come from the InferenceService status
(kserve/kserve@v0.20.0:pkg/apis/serving/v1beta1/inference_service_status.go).

Knative mode (status.deploymentMode Knative/Serverless, or a Knative Service child): forward to the
Istio gateway, svc/istio-ingressgateway port 80 in istio-system, and send the host of status.url as
the Host header. Standard/RawDeployment mode: forward to svc/<isvc>-predictor port 80 in the ISVC's
namespace, no Host header. ``pod=NAME``: forward to that pod's model server port 8080. The model name
is the ISVC name; the protocols are the serving runtime's (kserve-mlserver answers V2 only).

``forward_isvc(kube, access, namespace, name)`` is what a cluster provider's ``endpoint()`` and
``forwarded()`` (kslab.providers.cluster) open for predict/smoke/load and ``kslab port-forward``; the local
provider answers from its own runtime.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kslab.errors import CheckFailed
from kslab.kube import conditions
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.errors import NotFound
from kslab.models.cluster import ClusterAccess
from kslab.models.endpoint import Endpoint
from kslab.portforward.forward import EventSink, ForwardTarget, PortForward

Obj = dict[str, Any]
GATEWAY = ForwardTarget("istio-system", "svc/istio-ingressgateway", 80)
MODEL_SERVER_PORT = 8080  # kserve-container's http_port in every shipped runtime
KNATIVE_MODES = ("knative", "serverless")
STANDARD_MODES = ("standard", "rawdeployment")
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
# REST protocols of the shipped ClusterServingRuntimes (kserve/kserve@v0.20.0:config/runtimes); grpc-* left out.
RUNTIME_PROTOCOLS: dict[str, tuple[str, ...]] = {
    "kserve-sklearnserver": ("v1", "v2"), "kserve-xgbserver": ("v1", "v2"), "kserve-lgbserver": ("v1", "v2"),
    "kserve-pmmlserver": ("v1", "v2"), "kserve-paddleserver": ("v1", "v2"), "kserve-predictiveserver": ("v1", "v2"),
    "kserve-autogluonserver": ("v1", "v2"), "kserve-torchserve": ("v1", "v2"),
    "kserve-huggingfaceserver": ("v1", "v2"), "kserve-mlserver": ("v2",), "kserve-tritonserver": ("v2",),
    "kserve-tensorflow-serving": ("v1",),
}


@dataclass(frozen=True)
class Route:
    """How to reach one InferenceService from 127.0.0.1."""

    target: ForwardTarget
    host: str | None  # the Host header the gateway routes on; None when the target is the model server
    mode: str  # knative | standard | pod


@dataclass(frozen=True)
class ForwardedEndpoint:
    """An Endpoint, the PortForward that serves it and the route it took."""

    endpoint: Endpoint
    forward: PortForward
    route: Route


def read_ready_isvc(kube: Kube, namespace: str, name: str) -> Obj:
    """The InferenceService, or CheckFailed when it is missing or its Ready condition is not True."""
    isvc = kube.find(R.INFERENCE_SERVICE, name, namespace)
    if isvc is None:
        raise CheckFailed(f"InferenceService {name} not found in namespace {namespace}",
                          f"deploy it first: kslab deploy {name} (or choose the namespace with -n)")
    ready = conditions.condition(isvc, "Ready")
    if ready is None or str(ready.get("status")) != "True":
        failing = [c for c in conditions.conditions(isvc) if str(c.get("status")) != "True"]
        state = conditions.summarize({"status": {"conditions": failing}}) if failing else "no Ready condition yet"
        last = ((isvc.get("status") or {}).get("modelStatus") or {}).get("lastFailureInfo") or {}
        if last.get("reason"):
            state += f"; model: {last['reason']}" + (f" ({last['message']})" if last.get("message") else "")
        raise CheckFailed(f"InferenceService {namespace}/{name} is not Ready: {state}",
                          f"wait for it with 'kslab deploy {name}', or find the broken layer with "
                          f"'kslab doctor {name}'")
    return isvc


def recorded_mode(isvc: Obj) -> str | None:
    """knative or standard from status.deploymentMode, else from the mode annotation; None if neither says."""
    recorded = (isvc.get("status") or {}).get("deploymentMode")
    annotated = ((isvc.get("metadata") or {}).get("annotations") or {}).get(MODE_ANNOTATION)
    for value in (str(recorded or "").lower(), str(annotated or "").lower()):
        if value in KNATIVE_MODES:
            return "knative"
        if value in STANDARD_MODES:
            return "standard"
    return None


def runtime_protocols(isvc: Obj) -> tuple[str, ...]:
    """The REST protocols the serving runtime answers: the runtime from status, else from the spec."""
    status = isvc.get("status") or {}
    model = ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}
    runtime = status.get("clusterServingRuntimeName") or status.get("servingRuntimeName") or model.get("runtime")
    if runtime in RUNTIME_PROTOCOLS:
        return RUNTIME_PROTOCOLS[runtime]
    fmt = str((model.get("modelFormat") or {}).get("name") or "")
    if runtime is None and fmt == "sklearn" and model.get("protocolVersion") == "v2":
        return RUNTIME_PROTOCOLS["kserve-mlserver"]  # auto-selected: priority 2 beats sklearnserver
    return ("v1", "v2")


def route_for(isvc: Obj, mode: str, pod: str | None = None) -> Route:
    """The forward target (and Host header) for an InferenceService in ``mode``."""
    namespace, name = isvc["metadata"]["namespace"], isvc["metadata"]["name"]
    if pod:
        return Route(ForwardTarget(namespace, f"pod/{pod}", MODEL_SERVER_PORT), None, "pod")
    if mode == "standard":
        return Route(ForwardTarget(namespace, f"svc/{name}-predictor", 80), None, "standard")
    url = str((isvc.get("status") or {}).get("url") or "")
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        raise CheckFailed(f"InferenceService {namespace}/{name} is Ready but has no status.url to route on",
                          f"kubectl get isvc {name} -n {namespace} -o yaml; 'kslab doctor {name}'")
    return Route(GATEWAY, host, "knative")


def _has_knative_service(kube: Kube, namespace: str, name: str) -> bool:
    try:
        return kube.find(R.KNATIVE_SERVICE, f"{name}-predictor", namespace) is not None
    except NotFound:  # Knative Serving is not installed at all
        return False


def resolve(kube: Kube, namespace: str, name: str, pod: str | None = None) -> tuple[Route, tuple[str, ...]]:
    """The route to a Ready InferenceService and the protocols its runtime speaks."""
    isvc = read_ready_isvc(kube, namespace, name)
    mode = recorded_mode(isvc) or ("knative" if _has_knative_service(kube, namespace, name) else "standard")
    return route_for(isvc, mode, pod), runtime_protocols(isvc)


@contextlib.contextmanager
def forward_isvc(kube: Kube, access: ClusterAccess, namespace: str, name: str, *, port: int | None = None,
                 pod: str | None = None, ready_timeout: float = 30.0,
                 on_event: EventSink | None = None) -> Iterator[ForwardedEndpoint]:
    """Resolve the InferenceService, open the port-forward, yield the Endpoint; stop the forward after.

    If the forward's restarts gave up while the block ran, leaving the block raises that failure (CheckFailed:
    "port-forward to ... gave up after N restarts: ..."), chained to any error the block raised itself: whatever
    the block measured through a dead forward (connect errors, failed checks) is not a result."""
    route, protocols = resolve(kube, namespace, name, pod)
    with PortForward(route.target, access=access, local_port=port, ready_timeout=ready_timeout,
                     on_event=on_event) as forward:
        endpoint = Endpoint(base_url=forward.url, model_name=name, host=route.host, protocols=protocols,
                            via="port-forward")
        try:
            yield ForwardedEndpoint(endpoint, forward, route)
        except Exception as exc:
            if forward.failure is not None and forward.failure is not exc:
                raise forward.failure from exc
            raise
        if forward.failure is not None:
            raise forward.failure
