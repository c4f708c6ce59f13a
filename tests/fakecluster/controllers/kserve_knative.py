"""KServe in Knative (Serverless) mode: the predictor ksvc, the top-level routing, and status.

ksvc <isvc>-predictor (owned by the ISVC) gets the autoscaling annotations KServe writes (class
kpa, min-scale default 1, max-scale when maxReplicas != 0, target/metric when set) and the traffic
split of KServe's ksvc reconciler: with canaryTrafficPercent and a rolled-out revision, latest=c
(tag "latest" only with serving.kserve.io/enable-tag-routing) and prev=100-c on
latestRolledoutRevision; otherwise latest 100. Once the predictor has a URL, the VirtualService
<isvc> and ExternalName Service <isvc> are created, status.url becomes http://<isvc>.<ns>.<domain>
and IngressReady True.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from ..resources import PODS, SERVICES, VIRTUAL_SERVICES
from .common import ensure
from .knative_serving import KSVCS, caught_up
from .kserve_predictor import PredictorPlan
from .kserve_status import ISVC_STATUS, predictor_status, propagate_cross_component, propagate_ksvc, propagate_model

if TYPE_CHECKING:
    from .kserve_isvc import InferenceServiceReconciler

Obj = dict[str, Any]
MANAGER = "manager"
TAG_ROUTING = "serving.kserve.io/enable-tag-routing"
MANAGED_KSVC_ANNOTATIONS = ("serving.knative.dev/rollout-duration",
                            "serving.knative.openshift.io/enablePassthrough")
LOCAL_GATEWAY = "knative-local-gateway.istio-system.svc.cluster.local"


def autoscaling_annotations(annotations: dict[str, str], predictor: Obj) -> dict[str, str]:
    out = dict(annotations)
    out.setdefault("autoscaling.knative.dev/class", "kpa.autoscaling.knative.dev")
    if predictor.get("scaleTarget") is not None:
        out["autoscaling.knative.dev/target"] = str(int(predictor["scaleTarget"]))
    if predictor.get("scaleMetric") is not None:
        out["autoscaling.knative.dev/metric"] = str(predictor["scaleMetric"])
    min_replicas = predictor.get("minReplicas")
    out["autoscaling.knative.dev/min-scale"] = str(1 if min_replicas is None else int(min_replicas))
    if int(predictor.get("maxReplicas") or 0) != 0:
        out["autoscaling.knative.dev/max-scale"] = str(int(predictor["maxReplicas"]))
    return out


def traffic_targets(predictor: Obj, annotations: dict[str, str], rolled_out: str | None) -> list[Obj]:
    canary = predictor.get("canaryTrafficPercent")
    tagged = annotations.get(TAG_ROUTING) == "true"
    if canary is not None and rolled_out:
        latest: Obj = {"latestRevision": True, "percent": int(canary)}
        if tagged:
            latest["tag"] = "latest"
        targets = [latest]
        if int(canary) < 100:
            targets.append({"revisionName": rolled_out, "latestRevision": False, "percent": 100 - int(canary),
                            "tag": "prev"})
        return targets
    latest = {"latestRevision": True, "percent": 100}
    if tagged:
        latest["tag"] = "latest"
    return [latest]


def desired_ksvc(isvc: Obj, plan: PredictorPlan, rolled_out: str | None) -> Obj:
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    annotations = autoscaling_annotations(plan.annotations, predictor)
    ksvc_annotations = {k: annotations.pop(k) for k in MANAGED_KSVC_ANNOTATIONS if k in annotations}
    revision_spec: Obj = copy.deepcopy(plan.pod_spec)
    if predictor.get("timeout") is not None:
        revision_spec["timeoutSeconds"] = int(predictor["timeout"])
        revision_spec["responseStartTimeoutSeconds"] = int(predictor["timeout"])
    if predictor.get("containerConcurrency") is not None:
        revision_spec["containerConcurrency"] = int(predictor["containerConcurrency"])
    labels = {**plan.labels, "isvc.generation": str(isvc["metadata"].get("generation", 1))}
    return {
        "metadata": {"name": plan.name, "labels": labels, "annotations": ksvc_annotations},
        "spec": {"template": {"metadata": {"labels": dict(plan.labels), "annotations": annotations},
                              "spec": revision_spec},
                 "traffic": traffic_targets(predictor, annotations, rolled_out)},
    }


def reconcile_knative(rec: InferenceServiceReconciler, isvc: Obj, status: Obj, plan: PredictorPlan) -> bool:
    """Reconcile the Knative children; True once the ksvc has observed this InferenceService's spec."""
    store = rec.store
    namespace = isvc["metadata"]["namespace"]
    comp = predictor_status(status)
    ksvc = ensure(store, KSVCS, namespace, desired_ksvc(isvc, plan, comp.get("latestRolledoutRevision")),
                  owner=isvc, replace=True, manager=MANAGER)
    ksvc_status = ksvc.get("status") or {}
    propagate_ksvc(status, ksvc_status)
    latest = comp.get("latestCreatedRevision")
    pods: list[Obj] = []
    if latest:
        pods, _ = store.list(PODS, namespace, label_selector=f"serving.knative.dev/revision={latest}")
    propagate_model(status, pods, raw=False, ksvc_status=ksvc_status)
    propagate_cross_component(status)
    from .kserve_explainer import reconcile_explainer  # imports this module

    explainer_current = reconcile_explainer(store, isvc, status, rec.settings.image_tag())
    _ingress(rec, isvc, status, plan)
    return caught_up(ksvc) and explainer_current


def _ingress(rec: InferenceServiceReconciler, isvc: Obj, status: Obj, plan: PredictorPlan) -> None:
    namespace, name = isvc["metadata"]["namespace"], isvc["metadata"]["name"]
    comp = predictor_status(status)
    url = comp.get("url")
    predictor_cond = next((c for c in status.get("conditions") or [] if c.get("type") == "PredictorReady"), {})
    if predictor_cond.get("status") != "True":
        value = "Unknown" if predictor_cond.get("status", "Unknown") == "Unknown" else "False"
        ISVC_STATUS.mark(status, "IngressReady", value, "Predictor ingress not created")
    if not url:
        return
    from .kserve_explainer import explainer_blocks_ingress, explainer_route

    blocked = explainer_blocks_ingress(isvc, status)
    if blocked is not None and predictor_cond.get("status") == "True":
        ISVC_STATUS.mark(status, "IngressReady", blocked, "Explainer ingress not created")
        return
    host = url.split("://", 1)[-1].replace("-predictor", "", 1)
    domain_host = host
    local_host = f"{name}.{namespace}.svc.cluster.local"
    predictor_host = f"{plan.name}.{namespace}.svc.cluster.local"
    has_explainer = (isvc.get("spec") or {}).get("explainer") is not None
    explain_routes = [explainer_route(isvc, domain_host, local_host, LOCAL_GATEWAY)] if has_explainer else []
    if predictor_cond.get("status") == "True":
        ensure(rec.store, VIRTUAL_SERVICES, namespace, {
            "metadata": {"name": name, "labels": {"serving.kserve.io/inferenceservice": name}},
            "spec": {"hosts": [domain_host, local_host],
                     "gateways": ["knative-serving/knative-ingress-gateway", "knative-serving/knative-local-gateway"],
                     "http": [*explain_routes, {"match": [
                         {"authority": {"regex": f"^{re.escape(domain_host)}(?::\\d{{1,5}})?$"},
                          "gateways": ["knative-serving/knative-ingress-gateway"]},
                         {"authority": {"regex": f"^{re.escape(local_host)}(?::\\d{{1,5}})?$"},
                          "gateways": ["knative-serving/knative-local-gateway"]}],
                         "headers": {"request": {"set": {"Host": predictor_host}}},
                         "route": [{"destination": {"host": LOCAL_GATEWAY, "port": {"number": 80}}, "weight": 100}]}]},
        }, owner=isvc, manager=MANAGER)
        ensure(rec.store, SERVICES, namespace, {
            "metadata": {"name": name, "labels": {"serving.kserve.io/inferenceservice": name}},
            "spec": {"type": "ExternalName", "externalName": LOCAL_GATEWAY, "sessionAffinity": "None"},
        }, owner=isvc, manager=MANAGER)
    status["url"] = f"http://{domain_host}"
    status["address"] = {"url": f"http://{local_host}"}
    ISVC_STATUS.mark_true(status, "IngressReady")
