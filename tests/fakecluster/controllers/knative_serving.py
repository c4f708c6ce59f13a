"""Knative Serving stand-in, part 1: Service (ksvc) -> Configuration + Route, and their statuses.

A Configuration stamps out Revision <config>-<5-digit generation> only when its template changes
(the generation bumps only on spec changes), so a traffic-only change to the ksvc makes no
revision (facts §8). The Route resolves ``latestRevision`` targets to the Configuration's
latestReadyRevisionName, publishes tag URLs (http://<tag>-<route>.<ns>.<domain>), and reports
AllTrafficAssigned / IngressReady / CertificateProvisioned with Knative's reasons (RevisionMissing, ...).
IngressReady copies the KIngress's Ready condition (knative/serving@knative-v1.21.1
pkg/apis/serving/v1/route_lifecycle.go): while net-istio is not running the KIngress has no Ready condition,
so the Route says Unknown/IngressNotConfigured; while the gateway pods fail net-istio's probes the KIngress is
Unknown/Uninitialized "Waiting for load balancer to be ready" (knative/networking
pkg/apis/networking/v1alpha1/ingress_lifecycle.go) and the Route copies that. Nothing is reconciled while
Knative's controller is not running.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ..resources import CONFIGURATIONS, KSVCS, REVISIONS, ROUTES, SERVICES
from ..store import Event
from .common import ensure, is_deleting, labels_of, owner_requests, set_status, with_owner
from .conditions import ConditionSet, find
from .framework import Reconciler, Request
from .knative_config import ingress_ready, knative_domain, knative_running, net_istio_running

Obj = dict[str, Any]
MANAGER = "controller"
PROPAGATED_LABELS = ("isvc.generation",)  # ksvc metadata labels a new Revision inherits (see module README)

KSVC_STATUS = ConditionSet("Ready", "ConfigurationsReady", "RoutesReady")
CONFIG_STATUS = ConditionSet("Ready")
ROUTE_STATUS = ConditionSet("Ready", "AllTrafficAssigned", "IngressReady", "CertificateProvisioned")


def knative_controller_event(event: Event) -> bool:
    """A change of Deployment knative-serving/controller (Knative coming up re-reconciles everything)."""
    return (event.key == "apps/deployments" and event.namespace == "knative-serving"
            and event.object["metadata"]["name"] == "controller")


def caught_up(obj: Obj) -> bool:
    """Has the object's controller observed its latest spec (status.observedGeneration == generation)?"""
    return (obj.get("status") or {}).get("observedGeneration") == obj["metadata"].get("generation", 1)


def revision_number(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class ServiceReconciler(Reconciler):
    name = "ksvc"
    watches = (KSVCS.key, CONFIGURATIONS.key, ROUTES.key, "apps/deployments")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return super().requests_for(event)
        if knative_controller_event(event):
            return list(self.resync())
        return owner_requests(event.object, "Service")

    def reconcile(self, namespace: str, name: str) -> None:
        ksvc = self.store.find(KSVCS, namespace, name)
        if ksvc is None or is_deleting(ksvc) or not knative_running(self.store, self.settings):
            return
        spec = ksvc.get("spec") or {}
        uid = ksvc["metadata"]["uid"]
        labels = {**labels_of(ksvc), "serving.knative.dev/service": name, "serving.knative.dev/serviceUID": uid}
        config = ensure(self.store, CONFIGURATIONS, namespace, {
            "metadata": {"name": name, "labels": labels},
            "spec": {"template": copy.deepcopy(spec.get("template") or {})},
        }, owner=ksvc, replace=True, manager=MANAGER)
        traffic = copy.deepcopy(spec.get("traffic") or [{"latestRevision": True, "percent": 100}])
        for target in traffic:
            if target.get("latestRevision", not target.get("revisionName")):
                target["configurationName"] = name
                target.setdefault("latestRevision", True)
        route = ensure(self.store, ROUTES, namespace, {
            "metadata": {"name": name, "labels": labels},
            "spec": {"traffic": traffic},
        }, owner=ksvc, replace=True, manager=MANAGER)

        status = copy.deepcopy(ksvc.get("status") or {})
        KSVC_STATUS.initialize(status)
        cstatus, rstatus = config.get("status") or {}, route.get("status") or {}
        for child, ctype, kind in ((config, "ConfigurationsReady", "Configuration"), (route, "RoutesReady", "Route")):
            if not caught_up(child):
                KSVC_STATUS.mark_unknown(status, ctype, "OutOfDate",
                                         f"The {kind} is still working to reflect the latest desired specification.")
            else:
                KSVC_STATUS.copy_from(status, ctype, find((child.get("status") or {}).get("conditions"), "Ready"))
        for key in ("latestCreatedRevisionName", "latestReadyRevisionName"):
            if cstatus.get(key):
                status[key] = cstatus[key]
        for key in ("url", "address", "traffic"):
            if rstatus.get(key):
                status[key] = copy.deepcopy(rstatus[key])
        status["observedGeneration"] = ksvc["metadata"].get("generation", 1)
        set_status(self.store, KSVCS, ksvc, status, MANAGER)


class ConfigurationReconciler(Reconciler):
    name = "configuration"
    watches = (CONFIGURATIONS.key, REVISIONS.key, "apps/deployments")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return super().requests_for(event)
        if knative_controller_event(event):
            return list(self.resync())
        return owner_requests(event.object, "Configuration")

    def reconcile(self, namespace: str, name: str) -> None:
        config = self.store.find(CONFIGURATIONS, namespace, name)
        if config is None or is_deleting(config) or not knative_running(self.store, self.settings):
            return
        generation = int(config["metadata"].get("generation", 1))
        latest = f"{name}-{generation:05d}"
        if self.store.find(REVISIONS, namespace, latest) is None:
            self._create_revision(config, latest, generation)
        revisions, _ = self.store.list(REVISIONS, namespace, label_selector=f"serving.knative.dev/configuration={name}")
        ready = [r for r in revisions if find((r.get("status") or {}).get("conditions"), "Ready")
                 and find(r["status"]["conditions"], "Ready").get("status") == "True"
                 and revision_number(r["metadata"]["name"]) <= generation]
        status = copy.deepcopy(config.get("status") or {})
        CONFIG_STATUS.initialize(status)
        status["latestCreatedRevisionName"] = latest
        if ready:
            status["latestReadyRevisionName"] = max(ready, key=lambda r: revision_number(r["metadata"]["name"]))[
                "metadata"]["name"]
        current = next((r for r in revisions if r["metadata"]["name"] == latest), None)
        cond = find(((current or {}).get("status") or {}).get("conditions"), "Ready") or {}
        if cond.get("status") == "True":
            CONFIG_STATUS.mark_true(status, "Ready")
        elif cond.get("status") == "False":
            CONFIG_STATUS.mark_false(status, "Ready", "RevisionFailed",
                                     f'Revision "{latest}" failed with message: {cond.get("message", "")}.')
        else:
            CONFIG_STATUS.mark_unknown(status, "Ready")
        status["observedGeneration"] = generation
        set_status(self.store, CONFIGURATIONS, config, status, MANAGER)

    def _create_revision(self, config: Obj, name: str, generation: int) -> None:
        template = copy.deepcopy((config.get("spec") or {}).get("template") or {})
        tmeta = template.get("metadata") or {}
        cfg_labels = labels_of(config)
        labels = {**(tmeta.get("labels") or {}),
                  "serving.knative.dev/configuration": config["metadata"]["name"],
                  "serving.knative.dev/configurationGeneration": str(generation),
                  "serving.knative.dev/configurationUID": config["metadata"]["uid"],
                  "serving.knative.dev/routingState": "active"}
        for key in ("serving.knative.dev/service", "serving.knative.dev/serviceUID", *PROPAGATED_LABELS):
            if key in cfg_labels:
                labels[key] = cfg_labels[key]
        annotations = {**(tmeta.get("annotations") or {}), "serving.knative.dev/routes": config["metadata"]["name"]}
        spec = copy.deepcopy(template.get("spec") or {})
        spec.setdefault("timeoutSeconds", 300)
        spec.setdefault("containerConcurrency", 0)
        revision = {"metadata": {"name": name, "labels": labels, "annotations": annotations}, "spec": spec}
        created = self.store.create(REVISIONS, config["metadata"]["namespace"], with_owner(revision, config),
                                    manager=MANAGER)
        self.mgr.events.record(config, "Normal", "Created", f'Created Revision "{created["metadata"]["name"]}"',
                               "configuration-controller")


class RouteReconciler(Reconciler):
    name = "route"
    watches = (ROUTES.key, CONFIGURATIONS.key, REVISIONS.key, "apps/deployments")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == self.primary:
            return super().requests_for(event)
        if event.key == CONFIGURATIONS.key:
            return [(event.namespace, str(event.object["metadata"]["name"]))]
        if event.key == REVISIONS.key:
            cfg = labels_of(event.object).get("serving.knative.dev/configuration")
            return [(event.namespace, cfg)] if cfg else ()
        if event.object["metadata"]["name"] in ("istio-ingressgateway", "net-istio-controller") \
                or knative_controller_event(event):
            return list(self.resync())
        return ()

    def reconcile(self, namespace: str, name: str) -> None:
        route = self.store.find(ROUTES, namespace, name)
        if route is None or is_deleting(route) or not knative_running(self.store, self.settings):
            return
        domain = knative_domain(self.store)
        status = copy.deepcopy(route.get("status") or {})
        ROUTE_STATUS.initialize(status)
        status["url"] = f"http://{name}.{namespace}.{domain}"
        status["address"] = {"url": f"http://{name}.{namespace}.svc.cluster.local"}
        resolved, problem = self._resolve(namespace, name, domain, route)
        if problem is None:
            status["traffic"] = resolved
            ROUTE_STATUS.mark_true(status, "AllTrafficAssigned")
            ROUTE_STATUS.mark_true(status, "CertificateProvisioned", "TLSNotEnabled",
                                   "external-domain-tls is not enabled")
            if not net_istio_running(self.store, self.settings):
                ROUTE_STATUS.mark_unknown(status, "IngressReady", "IngressNotConfigured",
                                          "Ingress has not yet been reconciled.")
            elif not ingress_ready(self.store, self.settings):
                ROUTE_STATUS.mark_unknown(status, "IngressReady", "Uninitialized",
                                          "Waiting for load balancer to be ready")
            else:
                ROUTE_STATUS.mark_true(status, "IngressReady")
        else:
            ROUTE_STATUS.mark(status, "AllTrafficAssigned", *problem)
        status["observedGeneration"] = route["metadata"].get("generation", 1)
        set_status(self.store, ROUTES, route, status, MANAGER)
        ensure(self.store, SERVICES, namespace, {
            "metadata": {"name": name, "labels": {"serving.knative.dev/route": name}},
            "spec": {"type": "ExternalName", "externalName": "knative-local-gateway.istio-system.svc.cluster.local",
                     "ports": [{"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 80}],
                     "sessionAffinity": "None"},
        }, owner=route, manager=MANAGER)

    def _resolve(self, namespace: str, name: str, domain: str, route: Obj
                 ) -> tuple[list[Obj], tuple[str, str, str] | None]:
        out: list[Obj] = []
        for target in (route.get("spec") or {}).get("traffic") or []:
            entry: Obj = {}
            if target.get("tag"):
                entry["tag"] = target["tag"]
            if target.get("latestRevision"):
                cfg_name = target.get("configurationName") or name
                config = self.store.find(CONFIGURATIONS, namespace, cfg_name)
                cstatus = (config or {}).get("status") or {}
                revision = cstatus.get("latestReadyRevisionName")
                if not revision:
                    failed = (find(cstatus.get("conditions"), "Ready") or {}).get("status") == "False"
                    if failed:
                        return out, ("False", "RevisionMissing", f'Configuration "{cfg_name}" does not have any ready '
                                     "Revision.")
                    return out, ("Unknown", "RevisionMissing",
                                 f'Configuration "{cfg_name}" is waiting for a Revision to become ready.')
                entry.update(revisionName=revision, latestRevision=True)
            else:
                revision = str(target.get("revisionName"))
                rev = self.store.find(REVISIONS, namespace, revision)
                if rev is None:
                    return out, ("False", "RevisionMissing", f'Revision "{revision}" referenced in traffic not found.')
                if (find((rev.get("status") or {}).get("conditions"), "Ready") or {}).get("status") != "True":
                    return out, ("Unknown", "RevisionMissing", f'Revision "{revision}" is not yet ready.')
                entry.update(revisionName=revision, latestRevision=False)
            entry["percent"] = int(target.get("percent") or 0)
            if target.get("tag"):
                entry["url"] = f"http://{target['tag']}-{name}.{namespace}.{domain}"
            out.append(entry)
        return out, None
