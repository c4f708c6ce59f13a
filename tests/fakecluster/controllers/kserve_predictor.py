"""Build the predictor's pod metadata and pod spec the way KServe's predictor component does.

Runtime container + the ISVC's model container (image/args/env/ports override, resources merged
key by key), ``{{.Name}}`` placeholders replaced, default resources (1 CPU / 2Gi) when none are
given, the storage-initializer source-URI annotation (the pod webhook turns it into the init
container), and labels/annotations in KServe's priority order (runtime < ISVC < predictor).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .kserve_config import DISALLOWED_ANNOTATIONS, IsvcConfig

Obj = dict[str, Any]
STORAGE_URI_ANNOTATION = "internal.serving.kserve.io/storage-initializer-sourceuri"
FRAMEWORKS = ("sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "huggingface", "pmml", "lightgbm",
              "paddle")
_NOT_POD_SPEC = {"model", "containers", "minReplicas", "maxReplicas", "scaleTarget", "scaleMetric",
                 "scaleMetricType", "containerConcurrency", "timeout", "canaryTrafficPercent", "labels", "annotations",
                 "logger", "batcher", "deploymentStrategy", "autoScaling", "name", "workerSpec", "storageUri",
                 "storage", *FRAMEWORKS}


@dataclass
class PredictorPlan:
    name: str  # <isvc>-predictor
    labels: dict[str, str]
    annotations: dict[str, str]
    pod_spec: Obj


def predictor_name(isvc_name: str, predictor: Obj | None = None) -> str:
    custom = (predictor or {}).get("name")
    return f"{isvc_name}-{custom}-predictor" if custom else f"{isvc_name}-predictor"


def _merge_resources(base: Obj | None, override: Obj | None) -> Obj:
    out = copy.deepcopy(base or {})
    for key in ("requests", "limits"):
        if (override or {}).get(key):
            out[key] = {**(out.get(key) or {}), **override[key]}
    return out


def _merge_env(base: list[Obj] | None, override: list[Obj] | None) -> list[Obj]:
    out = [copy.deepcopy(e) for e in base or []]
    for env in override or []:
        out = [e for e in out if e.get("name") != env.get("name")]
        out.append(copy.deepcopy(env))
    return out


def model_container(isvc: Obj, runtime_spec: Obj | None, cfg: IsvcConfig) -> Obj:
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    model = predictor.get("model") or {}
    containers = (runtime_spec or {}).get("containers") or []
    base = copy.deepcopy(next((c for c in containers if c.get("name") == "kserve-container"),
                              containers[0] if containers else {}))
    container: Obj = base
    container["name"] = "kserve-container"
    for key in ("image", "args", "command", "ports", "readinessProbe", "livenessProbe", "volumeMounts"):
        if model.get(key):
            container[key] = copy.deepcopy(model[key])
    container["resources"] = _merge_resources(base.get("resources"), model.get("resources"))
    container["env"] = _merge_env(base.get("env"), model.get("env"))
    if not container["env"]:
        container.pop("env")
    if model.get("runtimeVersion") and container.get("image"):
        container["image"] = container["image"].rsplit(":", 1)[0] + f":{model['runtimeVersion']}"
    name = isvc["metadata"]["name"]
    container["args"] = [str(a).replace("{{.Name}}", name) for a in container.get("args") or []]
    if not container["resources"].get("requests") and not container["resources"].get("limits"):
        container["resources"] = copy.deepcopy(cfg.resource_defaults)
    return container


def build_predictor(isvc: Obj, runtime_spec: Obj | None, cfg: IsvcConfig) -> PredictorPlan:
    spec = isvc.get("spec") or {}
    predictor = spec.get("predictor") or {}
    name = isvc["metadata"]["name"]
    if predictor.get("model") is not None:
        containers = [model_container(isvc, runtime_spec, cfg)]
        containers += [copy.deepcopy(c) for c in (runtime_spec or {}).get("containers") or []
                       if c.get("name") not in ("kserve-container", "transformer-container")]
        containers += [copy.deepcopy(c) for c in predictor.get("containers") or []]
    else:
        containers = [copy.deepcopy(c) for c in predictor.get("containers") or []]
        if containers:
            containers[0].setdefault("name", "kserve-container")
            if not (containers[0].get("resources") or {}).get("requests") and \
                    not (containers[0].get("resources") or {}).get("limits"):
                containers[0]["resources"] = copy.deepcopy(cfg.resource_defaults)
    for container in containers:
        container["env"] = [*(container.get("env") or []), {"name": "INFERENCE_SERVICE_NAME", "value": name}]
    pod_spec: Obj = {k: copy.deepcopy(v) for k, v in predictor.items() if k not in _NOT_POD_SPEC}
    pod_spec["containers"] = containers

    isvc_meta = isvc.get("metadata") or {}
    runtime_annotations = (runtime_spec or {}).get("annotations") or {}
    runtime_labels = (runtime_spec or {}).get("labels") or {}
    annotations = {k: v for k, v in (isvc_meta.get("annotations") or {}).items() if k not in DISALLOWED_ANNOTATIONS}
    uri = storage_uri(isvc)
    if uri:
        annotations[STORAGE_URI_ANNOTATION] = uri
    predictor_annotations = {k: v for k, v in (predictor.get("annotations") or {}).items()
                             if k not in DISALLOWED_ANNOTATIONS}
    labels = {**runtime_labels, **(isvc_meta.get("labels") or {}), **(predictor.get("labels") or {}),
              "serving.kserve.io/inferenceservice": name, "component": "predictor"}
    return PredictorPlan(predictor_name(name, predictor), labels,
                         {**runtime_annotations, **annotations, **predictor_annotations}, pod_spec)


def storage_uri(isvc: Obj) -> str | None:
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    model = predictor.get("model") or {}
    if model.get("storageUri"):
        return str(model["storageUri"])
    for container in predictor.get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") == "STORAGE_URI" and env.get("value"):
                return str(env["value"])
    return None
