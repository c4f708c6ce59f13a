"""Seed helpers for tests: put an installed lab stack into a fake cluster's store in one call.

``install_lab_stack`` creates what the KServe quick install leaves behind (facts §2.5): the
cert-manager, Istio, Knative (KnativeServing CR, reconciled by the operator stand-in) and KServe
Deployments, the inferenceservice-config ConfigMap and the shipped ClusterServingRuntimes. The
Deployments become Available through the simulated controllers within a few hundred ms.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import ApiError
from ..resources import CONFIGMAPS, DEPLOYMENTS, INGRESSCLASSES, KNATIVE_SERVINGS, NAMESPACES, SERVICES, by_key
from ..store import Store
from .kserve_runtimes import CLUSTER_RUNTIMES, shipped_runtimes
from .settings import ControllerSettings

Obj = dict[str, Any]
T = TypeVar("T")
SKLEARN_URI = "gs://kfserving-examples/models/sklearn/1.0/model"


def ensure_namespace(store: Store, name: str, labels: dict[str, str] | None = None) -> None:
    if store.find(NAMESPACES, None, name) is None:
        store.create(NAMESPACES, None, {"metadata": {"name": name, "labels": dict(labels or {})}})


def deployment(name: str, labels: dict[str, str], image: str, container: str | None = None,
               cpu: str = "10m", memory: str = "32Mi") -> Obj:
    return {"metadata": {"name": name, "labels": dict(labels)},
            "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [{
                                      "name": container or name, "image": image,
                                      "resources": {"requests": {"cpu": cpu, "memory": memory}}}]}}}}


def _create(store: Store, key: str, namespace: str | None, obj: Obj) -> None:
    try:
        store.create(by_key(key), namespace, obj)
    except ApiError as err:
        if err.code != 409:
            raise


def install_runtimes(store: Store, settings: ControllerSettings) -> None:
    for runtime in shipped_runtimes(settings):
        _create(store, CLUSTER_RUNTIMES.key, None, runtime)


def install_lab_stack(store: Store, settings: ControllerSettings, *, mode: str | None = None, knative: bool = True,
                      runtimes: bool = True, domain: str | None = "example.com", kserve: bool = True,
                      lean: bool = False) -> None:
    """Seed the stack. ``mode`` goes to inferenceservice-config deploy.defaultDeploymentMode (default: the
    version's Knative-mode name, Serverless or Knative, as the charts ship). ``lean`` leaves out what the
    KServe/Knative simulation does not need (cert-manager, Istio, the knative-operator Deployment): faster."""
    if not lean:
        _install_dependencies(store)
    if knative:
        if not lean:
            ensure_namespace(store, "knative-operator")
            _create(store, DEPLOYMENTS.key, "knative-operator",
                    deployment("knative-operator", {"name": "knative-operator"},
                               "gcr.io/knative-releases/knative.dev/operator/cmd/operator:v1.21.1"))
        ensure_namespace(store, "knative-serving")
        config: Obj = {"deployment": {"registries-skipping-tag-resolving": "nvcr.io,index.docker.io"}}
        if domain:
            config["domain"] = {domain: ""}
        _create(store, KNATIVE_SERVINGS.key, "knative-serving", {
            "metadata": {"name": "knative-serving"},
            "spec": {"version": settings.knative_serving_version, "config": config}})
    if kserve:
        _install_kserve(store, settings, mode, runtimes)


def _install_dependencies(store: Store) -> None:
    ensure_namespace(store, "cert-manager")
    for name, app, container in (("cert-manager", "cert-manager", "cert-manager-controller"),
                                 ("cert-manager-cainjector", "cainjector", "cert-manager-cainjector"),
                                 ("cert-manager-webhook", "webhook", "cert-manager-webhook")):
        _create(store, DEPLOYMENTS.key, "cert-manager",
                deployment(name, {"app": app, "app.kubernetes.io/instance": "cert-manager"},
                           f"quay.io/jetstack/{container}:v1.17.0", container))
    ensure_namespace(store, "istio-system")
    _create(store, DEPLOYMENTS.key, "istio-system", deployment("istiod", {"app": "istiod", "istio": "pilot"},
                                                              "docker.io/istio/pilot:1.27.1", "discovery"))
    _create(store, DEPLOYMENTS.key, "istio-system",
            deployment("istio-ingressgateway", {"app": "istio-ingressgateway", "istio": "ingressgateway"},
                       "docker.io/istio/proxyv2:1.27.1", "istio-proxy"))
    # The Services the charts create (facts §2.5, §2.8), so Endpoints and port-forwards work as after a real install.
    _create(store, SERVICES.key, "cert-manager", _service("cert-manager-webhook", {"app": "webhook"},
                                                           [("https", 443, 10250)]))
    _create(store, SERVICES.key, "istio-system", _service(
        "istio-ingressgateway", {"app": "istio-ingressgateway", "istio": "ingressgateway"},
        [("status-port", 15021, 15021), ("http2", 80, 80), ("https", 443, 443)], "LoadBalancer"))
    _create(store, INGRESSCLASSES.key, None, {"metadata": {"name": "istio"},
                                              "spec": {"controller": "istio.io/ingress-controller"}})


def _service(name: str, selector: dict[str, str], ports: list[tuple[str, int, int]], kind: str = "ClusterIP") -> Obj:
    return {"metadata": {"name": name, "labels": dict(selector)},
            "spec": {"type": kind, "selector": dict(selector),
                     "ports": [{"name": n, "port": p, "targetPort": t, "protocol": "TCP"} for n, p, t in ports]}}


def _install_kserve(store: Store, settings: ControllerSettings, mode: str | None, runtimes: bool) -> None:
    ensure_namespace(store, "kserve", {"control-plane": "kserve-controller-manager"})
    _create(store, CONFIGMAPS.key, "kserve", {"metadata": {"name": "inferenceservice-config"}, "data": {
        "deploy": json.dumps({"defaultDeploymentMode": mode or settings.knative_mode_name}),
        "ingress": json.dumps({"ingressGateway": "knative-serving/knative-ingress-gateway",
                               "localGateway": "knative-serving/knative-local-gateway",
                               "localGatewayService": "knative-local-gateway.istio-system.svc.cluster.local",
                               "ingressDomain": "example.com", "ingressClassName": "istio",
                               "domainTemplate": "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}",
                               "urlScheme": "http", "disableIstioVirtualHost": False}),
        "storageInitializer": json.dumps({"image": f"kserve/storage-initializer:{settings.image_tag()}",
                                          "memoryRequest": "100Mi", "memoryLimit": "1Gi", "cpuRequest": "100m",
                                          "cpuLimit": "1"}),
    }})
    if runtimes:
        install_runtimes(store, settings)  # before the controller exists, so the webhook gate lets them in
    _create(store, DEPLOYMENTS.key, "kserve",
            deployment("kserve-controller-manager", {"control-plane": "kserve-controller-manager"},
                       f"kserve/kserve-controller:{settings.image_tag()}", "manager", cpu="100m", memory="300Mi"))
    _create(store, SERVICES.key, "kserve", _service("kserve-webhook-server-service",
                                                    {"control-plane": "kserve-controller-manager"},
                                                    [("https", 443, 9443)]))


def sklearn_iris(namespace: str = "kserve-test", name: str = "sklearn-iris", *, storage_uri: str = SKLEARN_URI,
                 cpu: str | None = "100m", memory: str = "256Mi", annotations: dict[str, str] | None = None,
                 **predictor: Any) -> Obj:
    """The lab's InferenceService (small resources unless ``cpu=None``)."""
    model: Obj = {"modelFormat": {"name": "sklearn"}, "storageUri": storage_uri}
    if cpu is not None:
        model["resources"] = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": "1", "memory": "1Gi"}}
    meta: Obj = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService", "metadata": meta,
            "spec": {"predictor": {"model": model, **predictor}}}


def wait_for(check: Callable[[], T | None], timeout: float = 5.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value: {last!r}")


def stack_ready(store: Store, *, knative: bool = True) -> bool:
    """kserve-controller-manager Available and (with Knative) KnativeServing Ready."""
    from .common import deployment_available, find_condition

    if not deployment_available(store.find(DEPLOYMENTS, "kserve", "kserve-controller-manager")):
        return False
    if knative:
        ks = store.find(KNATIVE_SERVINGS, "knative-serving", "knative-serving")
        cond = find_condition(ks or {}, "Ready")
        return bool(cond and cond.get("status") == "True")
    return True


def install_and_wait(store: Store, settings: ControllerSettings, namespace: str | None = "kserve-test",
                     timeout: float = 5.0, **kwargs: Any) -> None:
    """``install_lab_stack`` + wait until it is up + create the workload namespace."""
    install_lab_stack(store, settings, **kwargs)
    wait_for(lambda: stack_ready(store, knative=kwargs.get("knative", True)), timeout, "the lab stack to be ready")
    if namespace:
        ensure_namespace(store, namespace)
