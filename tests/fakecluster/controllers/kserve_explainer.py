"""KServe's explainer component in Knative mode (facts §4.1, §4.3, §9).

``spec.explainer.containers`` (a custom explainer, e.g. the alibi image) or ``spec.explainer.art``
(image from inferenceservice-config ``explainers.art``) becomes the Knative Service
``<isvc>-explainer`` (owned by the InferenceService; pods labelled ``component=explainer``) with KServe's
default explainer args ``--model_name``, ``--predictor_host=<isvc>-predictor.<ns>``, ``--http_port=8080``
for ``art``. Its ksvc conditions are copied to ExplainerReady / ExplainerRoutesReady (plural) /
ExplainerConfigurationReady and ``status.components.explainer``. While ExplainerReady is not True,
KServe's ingress reconciler leaves IngressReady False/Unknown with reason "Explainer ingress not
created"; once it is, the top-level VirtualService routes ``:explain`` to the explainer. Standard-mode
explainers (their own Deployment and host) are not simulated.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from ..resources import CONFIGMAPS
from ..store import Store
from .common import ensure
from .conditions import find
from .knative_serving import KSVCS, caught_up
from .kserve_knative import autoscaling_annotations
from .kserve_predictor import STORAGE_URI_ANNOTATION
from .kserve_status import ISVC_STATUS

Obj = dict[str, Any]
MANAGER = "manager"
EXPLAIN_PATH_REGEX = r"^/v1/models/[\w-]+:explain$"  # KServe's ExplainPrefix()
_COMPONENT_FIELDS = ("containers", "art", "minReplicas", "maxReplicas", "scaleTarget", "scaleMetric",
                     "containerConcurrency", "timeout", "canaryTrafficPercent", "labels", "annotations", "logger",
                     "batcher", "serviceAccountName")


def explainer_spec(isvc: Obj) -> Obj | None:
    return (isvc.get("spec") or {}).get("explainer")


def explainer_name(isvc_name: str) -> str:
    return f"{isvc_name}-explainer"


def _art_container(store: Store, isvc: Obj, art: Obj, tag: str) -> Obj:
    cm = store.find(CONFIGMAPS, "kserve", "inferenceservice-config") or {}
    explainers = json.loads(((cm.get("data") or {}).get("explainers")) or "{}")
    image = (explainers.get("art") or {}).get("image", "kserve/art-explainer")
    name, ns = isvc["metadata"]["name"], isvc["metadata"]["namespace"]
    args = [f"--model_name={name}", f"--predictor_host={name}-predictor.{ns}", "--http_port=8080"]
    if art.get("type"):
        args.append(f"--adversary_type={art['type']}")
    return {"name": "kserve-container", "image": f"{image}:{art.get('runtimeVersion') or tag}",
            "args": [*args, *[str(a) for a in art.get("args") or []]],
            "resources": copy.deepcopy(art.get("resources") or {})}


def desired_explainer_ksvc(store: Store, isvc: Obj, tag: str) -> Obj:
    spec = explainer_spec(isvc) or {}
    name, ns = isvc["metadata"]["name"], isvc["metadata"]["namespace"]
    if spec.get("art") is not None:
        containers = [_art_container(store, isvc, spec["art"], tag)]
    else:
        containers = [copy.deepcopy(c) for c in spec.get("containers") or []]
        if containers:
            containers[0].setdefault("name", "kserve-container")
    annotations = {k: v for k, v in (spec.get("annotations") or {}).items()}
    for container in containers:
        for env in container.get("env") or []:
            if env.get("name") == "STORAGE_URI" and env.get("value"):
                annotations[STORAGE_URI_ANNOTATION] = str(env["value"])  # the pod webhook adds the initializer
    labels = {**(spec.get("labels") or {}), "serving.kserve.io/inferenceservice": name, "component": "explainer"}
    template_spec: Obj = {k: copy.deepcopy(v) for k, v in spec.items() if k not in _COMPONENT_FIELDS}
    template_spec["containers"] = containers
    if spec.get("containerConcurrency") is not None:
        template_spec["containerConcurrency"] = int(spec["containerConcurrency"])
    if spec.get("timeout") is not None:
        template_spec["timeoutSeconds"] = int(spec["timeout"])
    return {"metadata": {"name": explainer_name(name), "namespace": ns,
                         "labels": {**labels, "isvc.generation": str(isvc["metadata"].get("generation", 1))}},
            "spec": {"template": {"metadata": {"labels": labels,
                                               "annotations": autoscaling_annotations(annotations, spec)},
                                  "spec": template_spec},
                     "traffic": [{"latestRevision": True, "percent": 100}]}}


def reconcile_explainer(store: Store, isvc: Obj, status: Obj, tag: str) -> bool:
    """Reconcile ``<isvc>-explainer`` and its status; True when it has observed the current spec (or none)."""
    if explainer_spec(isvc) is None:
        status.get("components", {}).pop("explainer", None)
        status["conditions"] = [c for c in status.get("conditions") or []
                                if not str(c.get("type", "")).startswith("Explainer")]
        return True
    ksvc = ensure(store, KSVCS, isvc["metadata"]["namespace"], desired_explainer_ksvc(store, isvc, tag), owner=isvc,
                  replace=True, manager=MANAGER)
    ksvc_status = ksvc.get("status") or {}
    comp = status.setdefault("components", {}).setdefault("explainer", {})
    for key, source in (("latestCreatedRevision", "latestCreatedRevisionName"),
                        ("latestReadyRevision", "latestReadyRevisionName")):
        if ksvc_status.get(source):
            comp[key] = ksvc_status[source]
    conds = ksvc_status.get("conditions")
    ready = find(conds, "Ready")
    if ready is not None and ready.get("status") == "True":
        for key in ("url", "address"):
            if ksvc_status.get(key):
                comp[key] = copy.deepcopy(ksvc_status[key])
    if ksvc_status.get("traffic"):
        comp["traffic"] = copy.deepcopy(ksvc_status["traffic"])
    if ready is None:
        ISVC_STATUS.mark_unknown(status, "ExplainerReady")
    ISVC_STATUS.copy_from(status, "ExplainerReady", ready)
    ISVC_STATUS.copy_from(status, "ExplainerRoutesReady", find(conds, "RoutesReady"))
    ISVC_STATUS.copy_from(status, "ExplainerConfigurationReady", find(conds, "ConfigurationsReady"))
    return caught_up(ksvc)


def explainer_route(isvc: Obj, domain_host: str, local_host: str, local_gateway: str) -> Obj:
    """The top-level VirtualService route sending ``:explain`` to the explainer (before the predictor route)."""
    name, ns = isvc["metadata"]["name"], isvc["metadata"]["namespace"]
    hosts = ((re.escape(domain_host), "knative-serving/knative-ingress-gateway"),
             (re.escape(local_host), "knative-serving/knative-local-gateway"))
    return {"match": [{"uri": {"regex": EXPLAIN_PATH_REGEX}, "authority": {"regex": f"^{host}(?::\\d{{1,5}})?$"},
                       "gateways": [gateway]} for host, gateway in hosts],
            "headers": {"request": {"set": {"Host": f"{explainer_name(name)}.{ns}.svc.cluster.local"}}},
            "route": [{"destination": {"host": local_gateway, "port": {"number": 80}}, "weight": 100}]}


def explainer_blocks_ingress(isvc: Obj, status: Obj) -> str | None:
    """The IngressReady value while the explainer is not Ready ('False' or 'Unknown'), else None."""
    if explainer_spec(isvc) is None:
        return None
    cond = find(status.get("conditions"), "ExplainerReady") or {}
    if cond.get("status") == "True":
        return None
    return "Unknown" if cond.get("status", "Unknown") == "Unknown" else "False"
