"""KServe in Standard (RawDeployment) mode: Deployment, Service, HPA, Ingress (facts §5.2).

Deployment/Service/HPA <isvc>-predictor (selector app=isvc.<isvc>-predictor, Service 80 -> 8080,
HPA min=max(minReplicas,1), max=max(maxReplicas,min), CPU 80 % unless scaleMetric/scaleTarget),
PredictorReady derived from the Deployment's conditions, Ingress <isvc> (class from the ingress
config, default istio) only once PredictorReady is True. status.url is built from the domain
template (http://<isvc>-<ns>.example.com), components.predictor carries only ``url``. v0.20
``spec.canary[]`` adds Deployments/Services <isvc>-<canary>-predictor and canaryStatuses.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any

from ..resources import DEPLOYMENTS, HPAS, INGRESSES, PODS, SERVICES
from .common import delete_quietly, ensure, is_owned_by
from .kserve_config import IsvcConfig
from .kserve_predictor import PredictorPlan, build_predictor, predictor_name
from .kserve_status import ISVC_STATUS, predictor_status, propagate_deployment, propagate_model

if TYPE_CHECKING:
    from .kserve_isvc import InferenceServiceReconciler

Obj = dict[str, Any]
MANAGER = "manager"


def _workload(rec: InferenceServiceReconciler, isvc: Obj, plan: PredictorPlan, cfg: IsvcConfig,
              replicas: int) -> Obj:
    namespace = isvc["metadata"]["namespace"]
    app = f"isvc.{plan.name}"
    labels = {**plan.labels, "app": app}
    pod_labels = {**labels, "isvc.generation": str(isvc["metadata"].get("generation", 1))}
    live = rec.store.find(DEPLOYMENTS, namespace, plan.name)
    spec: Obj = {"selector": {"matchLabels": {"app": app}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "template": {"metadata": {"labels": pod_labels, "annotations": dict(plan.annotations)},
                              "spec": copy.deepcopy(plan.pod_spec)}}
    if live is None:
        spec["replicas"] = replicas
    dep = ensure(rec.store, DEPLOYMENTS, namespace,
                 {"metadata": {"name": plan.name, "labels": labels, "annotations": dict(plan.annotations)},
                  "spec": spec}, owner=isvc, manager=MANAGER)
    service: Obj = {"type": "ClusterIP", "selector": {"app": app},
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}
    if cfg.service_cluster_ip_none:
        service["clusterIP"] = "None"
    elif rec.store.find(SERVICES, namespace, plan.name) is None:
        index = sum(ord(ch) for ch in f"{namespace}/{plan.name}") % 250
        service["clusterIP"] = f"10.96.{20 + index // 250}.{index + 2}"
    ensure(rec.store, SERVICES, namespace, {"metadata": {"name": plan.name, "labels": labels}, "spec": service},
           owner=isvc, manager=MANAGER)
    return dep


def reconcile_raw(rec: InferenceServiceReconciler, isvc: Obj, status: Obj, plan: PredictorPlan, cfg: IsvcConfig,
                  runtime_spec: Obj | None) -> bool:
    """Reconcile the Standard-mode children; True once the Deployment has observed the current template."""
    store = rec.store
    namespace = isvc["metadata"]["namespace"]
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    minimum = max(int(predictor.get("minReplicas") or 1), 1)
    maximum = max(int(predictor.get("maxReplicas") or 0), minimum)
    dep = _workload(rec, isvc, plan, cfg, minimum)
    annotations = (isvc.get("metadata") or {}).get("annotations") or {}
    if annotations.get("serving.kserve.io/autoscalerClass", "hpa") == "hpa":
        metric = str(predictor.get("scaleMetric") or "cpu")
        target = int(predictor.get("scaleTarget") or 80)
        ensure(store, HPAS, namespace, {
            "metadata": {"name": plan.name, "labels": {**plan.labels, "app": f"isvc.{plan.name}"}},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": plan.name},
                     "minReplicas": minimum, "maxReplicas": maximum,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": metric, "target": {"type": "Utilization", "averageUtilization": target}}}]},
        }, owner=isvc, replace=True, manager=MANAGER)
    host = cfg.host(plan.name, namespace)
    propagate_deployment(status, dep, f"{cfg.url_scheme}://{host}")
    pods, _ = store.list(PODS, namespace, label_selector=f"app=isvc.{plan.name}")
    propagate_model(status, [p for p in pods if not p["metadata"].get("deletionTimestamp")], raw=True,
                    ksvc_status=None)
    _canaries(rec, isvc, status, cfg, runtime_spec)
    _ingress(rec, isvc, status, plan, cfg)
    return (dep.get("status") or {}).get("observedGeneration") == dep["metadata"].get("generation", 1)


def _ingress(rec: InferenceServiceReconciler, isvc: Obj, status: Obj, plan: PredictorPlan, cfg: IsvcConfig) -> None:
    namespace, name = isvc["metadata"]["namespace"], isvc["metadata"]["name"]
    predictor_cond = next((c for c in status.get("conditions") or [] if c.get("type") == "PredictorReady"), {})
    if predictor_cond.get("status") != "True":
        ISVC_STATUS.mark_false(status, "IngressReady", "Predictor ingress not created")
        return
    internal = cfg.ingress_domain == "svc.cluster.local"
    if not internal and not cfg.disable_ingress_creation:
        rules = [{"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": plan.name, "port": {"number": 80}}}}]}}
                 for h in (cfg.host(name, namespace), cfg.host(plan.name, namespace))]
        ensure(rec.store, INGRESSES, namespace, {
            "metadata": {"name": name, "annotations": dict(isvc["metadata"].get("annotations") or {})},
            "spec": {"ingressClassName": cfg.ingress_class, "rules": rules},
        }, owner=isvc, manager=MANAGER)
    status["url"] = f"{cfg.url_scheme}://{cfg.host(name, namespace)}"
    suffix = ":8080" if cfg.service_cluster_ip_none else ""
    status["address"] = {"url": f"http://{plan.name}.{namespace}.svc.cluster.local{suffix}"}
    ISVC_STATUS.mark_true(status, "IngressReady")


def _canaries(rec: InferenceServiceReconciler, isvc: Obj, status: Obj, cfg: IsvcConfig,
              runtime_spec: Obj | None) -> None:
    spec = isvc.get("spec") or {}
    namespace, name = isvc["metadata"]["namespace"], isvc["metadata"]["name"]
    stable = spec.get("predictor") or {}
    expected = {predictor_name(name, stable)}
    statuses = []
    for canary in spec.get("canary") or []:
        override = canary.get("predictor") or {}
        merged = {**copy.deepcopy(stable), **copy.deepcopy(override)}
        if stable.get("model") and override.get("model"):
            merged["model"] = {**copy.deepcopy(stable["model"]), **copy.deepcopy(override["model"])}
        replicas = override.get("minReplicas")
        if replicas is None:
            replicas = math.ceil(int(stable.get("minReplicas") or 1) * int(canary.get("trafficPercent") or 0) / 100)
        twin = copy.deepcopy(isvc)
        twin["spec"]["predictor"] = merged
        plan = build_predictor(twin, runtime_spec, cfg)
        expected.add(plan.name)
        dep = _workload(rec, twin, plan, cfg, int(replicas))
        ready = int((dep.get("status") or {}).get("availableReplicas") or 0) > 0
        statuses.append({"name": override.get("name", ""), "ready": ready,
                         "trafficPercent": int(canary.get("trafficPercent") or 0)})
    if statuses:
        status["canaryStatuses"] = statuses
        ready = all(s["ready"] for s in statuses)
        ISVC_STATUS.mark(status, "CanaryPredictorReady", "True" if ready else "False",
                         "AllCanariesReady" if ready else "CanariesNotReady")
    else:
        status.pop("canaryStatuses", None)
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "CanaryPredictorReady"]
    selector = f"serving.kserve.io/inferenceservice={name},component=predictor"
    for rt in (DEPLOYMENTS, SERVICES):
        items, _ = rec.store.list(rt, namespace, label_selector=selector)
        for item in items:
            if item["metadata"]["name"] not in expected and is_owned_by(item, isvc):
                delete_quietly(rec.store, rt, namespace, item["metadata"]["name"])
    predictor_status(status)
