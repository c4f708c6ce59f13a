"""The Knative Operator stand-in: a KnativeServing CR becomes Knative Serving + net-istio.

Creates (owned by the CR) the Deployments activator, autoscaler, controller, webhook,
net-istio-controller and net-istio-webhook (labels app=<name>), the config-* ConfigMaps whose data
is ``spec.config.<name>`` (manual edits are reverted, as the operator does), the Gateways
knative-ingress-gateway / knative-local-gateway in the CR's namespace and the Service
knative-local-gateway in istio-system. Status conditions follow the operator:
DependenciesInstalled, DeploymentsAvailable, InstallSucceeded, VersionMigrationEligible, Ready.
If a knative-operator Deployment exists, nothing happens until it is Available.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ..resources import CONFIGMAPS, DEPLOYMENTS, SERVICES, by_key
from ..store import Event
from .common import (
    deployment_available,
    ensure,
    find_deployment,
    is_deleting,
    namespace_exists,
    owner_requests,
    set_status,
)
from .conditions import ConditionSet
from .framework import Reconciler, Request
from .knative_config import ISTIO_NS, KNATIVE_SERVINGS

Obj = dict[str, Any]
GATEWAYS = by_key("networking.istio.io/gateways")
MANAGER = "knative-operator"

# name -> (requests cpu, requests memory, image path)
COMPONENTS: dict[str, tuple[str, str, str]] = {
    "activator": ("300m", "60Mi", "knative.dev/serving/cmd/activator"),
    "autoscaler": ("100m", "100Mi", "knative.dev/serving/cmd/autoscaler"),
    "controller": ("100m", "100Mi", "knative.dev/serving/cmd/controller"),
    "webhook": ("100m", "100Mi", "knative.dev/serving/cmd/webhook"),
    "net-istio-controller": ("30m", "40Mi", "knative.dev/net-istio/cmd/controller"),
    "net-istio-webhook": ("20m", "20Mi", "knative.dev/net-istio/cmd/webhook"),
}
CONFIG_MAPS = ("domain", "autoscaler", "deployment", "network", "observability", "features", "istio")
EXAMPLE = ("################################\n#                              #\n#    EXAMPLE CONFIGURATION     #\n"
           "#                              #\n################################\n")
STATUS = ConditionSet("Ready", "DependenciesInstalled", "DeploymentsAvailable", "InstallSucceeded",
                      "VersionMigrationEligible")


class KnativeServingReconciler(Reconciler):
    name = "knativeserving"
    watches = (KNATIVE_SERVINGS.key, "apps/deployments", "/configmaps")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return super().requests_for(event)
        if event.key == "apps/deployments" and event.object["metadata"]["name"] == "knative-operator":
            return list(self.resync())
        return owner_requests(event.object, "KnativeServing")

    def reconcile(self, namespace: str, name: str) -> None:
        ks = self.store.find(KNATIVE_SERVINGS, namespace, name)
        if ks is None or is_deleting(ks):
            return
        operator = find_deployment(self.store, None, "knative-operator")
        if operator is not None and not deployment_available(operator):
            return
        spec = ks.get("spec") or {}
        version = str(spec.get("version") or self.settings.knative_serving_version)
        for component in COMPONENTS:
            self._deployment(ks, component, version)
        for short in CONFIG_MAPS:
            values = ((spec.get("config") or {}).get(short)) or {}
            data = {"_example": EXAMPLE, **{k: str(v) for k, v in values.items()}}
            ensure(self.store, CONFIGMAPS, namespace,
                   {"metadata": {"name": f"config-{short}", "labels": self._labels(version, "serving")}, "data": data},
                   owner=ks, fields=("data",), replace=True, manager=MANAGER)
        for gw, port in (("knative-ingress-gateway", 80), ("knative-local-gateway", 8081)):
            ensure(self.store, GATEWAYS, namespace, {
                "metadata": {"name": gw, "labels": self._labels(version, "net-istio")},
                "spec": {"selector": {"istio": "ingressgateway"},
                         "servers": [{"hosts": ["*"], "port": {"name": "http", "number": port, "protocol": "HTTP"}}]},
            }, owner=ks, manager=MANAGER)
        if namespace_exists(self.store, ISTIO_NS):
            ensure(self.store, SERVICES, ISTIO_NS, {
                "metadata": {"name": "knative-local-gateway",
                             "labels": {**self._labels(version, "net-istio"),
                                        "experimental.istio.io/disable-gateway-port-translation": "true"}},
                "spec": {"type": "ClusterIP", "clusterIP": "10.96.200.10", "clusterIPs": ["10.96.200.10"],
                         "selector": {"istio": "ingressgateway"},
                         "ports": [{"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 8081}]},
            }, manager=MANAGER)
        self._status(ks, version)

    @staticmethod
    def _labels(version: str, component: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": "knative-serving", "app.kubernetes.io/component": component,
                "app.kubernetes.io/version": version}

    def _deployment(self, ks: Obj, component: str, version: str) -> None:
        namespace = ks["metadata"]["namespace"]
        if self.store.find(DEPLOYMENTS, namespace, component) is not None:
            return
        cpu, memory, path = COMPONENTS[component]
        resources: Obj = {"requests": {"cpu": cpu, "memory": memory}}
        for workload in (ks.get("spec") or {}).get("workloads") or []:
            if workload.get("name") == component:
                for res in workload.get("resources") or []:
                    resources = {k: copy.deepcopy(res[k]) for k in ("requests", "limits") if k in res} or resources
        labels = {"app": component, **self._labels(version, "net-istio" if "istio" in component else component)}
        container = {"name": "webhook" if component.endswith("webhook") else component.removeprefix("net-istio-"),
                     "image": f"gcr.io/knative-releases/{path}:v{version}", "resources": resources}
        ensure(self.store, DEPLOYMENTS, namespace, {
            "metadata": {"name": component, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": component}},
                     "template": {"metadata": {"labels": {"app": component, "role": component}},
                                  "spec": {"serviceAccountName": "controller", "containers": [container]}}},
        }, owner=ks, manager=MANAGER)

    def _status(self, ks: Obj, version: str) -> None:
        namespace = ks["metadata"]["namespace"]
        status = copy.deepcopy(ks.get("status") or {})
        STATUS.initialize(status)
        for ctype in ("DependenciesInstalled", "InstallSucceeded", "VersionMigrationEligible"):
            STATUS.mark_true(status, ctype)
        waiting = [c for c in COMPONENTS if not deployment_available(self.store.find(DEPLOYMENTS, namespace, c))]
        if waiting:
            STATUS.mark_false(status, "DeploymentsAvailable", "NotReady",
                              f"Waiting on deployments: {', '.join(waiting)}")
        else:
            STATUS.mark_true(status, "DeploymentsAvailable")
        minor = ".".join(version.split(".")[:2])
        status.update({"version": version, "observedGeneration": ks["metadata"].get("generation", 1),
                       "manifests": [f"/var/run/ko/knative-serving/{version}", f"/var/run/ko/ingress/{minor}/istio"]})
        set_status(self.store, KNATIVE_SERVINGS, ks, status, MANAGER)
