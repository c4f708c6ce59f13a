"""What the Knative stand-ins read from the cluster: is Knative there, its domain, autoscaler config.

Presence and readiness are decided from the objects an install leaves behind (the controller
Deployment in knative-serving, a KnativeServing CR, the ksvc CRD), unless the test forces them
through ``settings.knative_installed`` / ``settings.ingress_ready`` / ``settings.net_istio_running``.
"""

from __future__ import annotations

from typing import Any

from ..resources import KNATIVE_SERVINGS, by_key
from ..store import Store
from .common import configmap_data, deployment_available, find_deployment
from .settings import ControllerSettings

Obj = dict[str, Any]
KNATIVE_NS = "knative-serving"
ISTIO_NS = "istio-system"
CRDS = by_key("apiextensions.k8s.io/customresourcedefinitions")
DEFAULT_DOMAIN = "svc.cluster.local"  # Knative >= 1.8 when config-domain has no domain key (facts §2.7)

AUTOSCALER_DEFAULTS: dict[str, str] = {  # facts §2.7 (Serving 1.21 config-autoscaler defaults)
    "container-concurrency-target-default": "100",
    "container-concurrency-target-percentage": "70",
    "requests-per-second-target-default": "200",
    "target-burst-capacity": "211",
    "stable-window": "60s",
    "enable-scale-to-zero": "true",
    "scale-to-zero-grace-period": "30s",
    "initial-scale": "1",
    "allow-zero-initial-scale": "false",
    "min-scale": "0",
    "max-scale": "0",
}


def knative_present(store: Store, settings: ControllerSettings) -> bool:
    """Would KServe find the Knative Service API? (decides ServerlessModeRejected on 0.16+)."""
    if settings.knative_installed is not None:
        return settings.knative_installed
    if find_deployment(store, KNATIVE_NS, "controller") is not None:
        return True
    if store.find(CRDS, None, "services.serving.knative.dev") is not None:
        return True
    items, _ = store.list(KNATIVE_SERVINGS)
    return bool(items)


def knative_running(store: Store, settings: ControllerSettings) -> bool:
    """Is Knative Serving's controller up (so ksvc/route/revision objects get reconciled)?"""
    if settings.knative_installed is not None:
        return settings.knative_installed
    return deployment_available(find_deployment(store, KNATIVE_NS, "controller"))


def ingress_ready(store: Store, settings: ControllerSettings) -> bool:
    """Do net-istio's probes of the Istio gateway pods succeed? False -> the KIngress (and so the Route) stays
    Unknown/Uninitialized, "Waiting for load balancer to be ready"."""
    if settings.ingress_ready is not None:
        return settings.ingress_ready
    gateway = find_deployment(store, ISTIO_NS, "istio-ingressgateway")
    return gateway is None or deployment_available(gateway)


def net_istio_running(store: Store, settings: ControllerSettings) -> bool:
    """Is net-istio's controller reconciling KIngresses? False -> the KIngress never gets a Ready condition and the
    Route says IngressNotConfigured."""
    if settings.net_istio_running is not None:
        return settings.net_istio_running
    controller = find_deployment(store, KNATIVE_NS, "net-istio-controller")
    return controller is None or deployment_available(controller)


def knative_domain(store: Store) -> str:
    data = configmap_data(store, KNATIVE_NS, "config-domain") or {}
    domains = [k for k in data if not k.startswith("_")]
    if not domains:
        return DEFAULT_DOMAIN
    default = [k for k in domains if not (data[k] or "").strip()]
    return sorted(default or domains)[0]


def autoscaler_config(store: Store) -> dict[str, str]:
    data = configmap_data(store, KNATIVE_NS, "config-autoscaler") or {}
    return {**AUTOSCALER_DEFAULTS, **{k: v for k, v in data.items() if not k.startswith("_")}}
