"""ClusterServingRuntimes as shipped per KServe version (facts §2.9) and KServe's runtime selection.

Selection (``select_runtime``): with ``runtime`` set it must exist (else RuntimeNotRecognized),
be enabled, support the protocol and the model format (else NoSupportingRuntime); without it the
candidates must auto-select the format and support the protocol (default v1), namespace
ServingRuntimes before ClusterServingRuntimes, highest priority first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..resources import CLUSTER_RUNTIMES
from ..resources import SERVING_RUNTIMES as RUNTIMES
from ..store import Store
from .settings import ControllerSettings

Obj = dict[str, Any]
_PROTOCOL_RANK = {"v1": 1, "v2": 2, "grpc-v1": 3, "grpc-v2": 4}


def _fmt(name: str, version: str, auto: bool = True, priority: int | None = 1) -> Obj:
    out: Obj = {"name": name, "version": version, "autoSelect": auto}
    if priority is not None:
        out["priority"] = priority
    return out


def shipped_runtimes(settings: ControllerSettings) -> list[Obj]:
    """The ClusterServingRuntime objects kserve-cluster-resources / kserve-runtime-configs install."""
    tag = settings.image_tag()
    new = settings.kserve_at_least("0.17")
    v014 = settings.kserve_at_least("0.14")
    minor = settings.kserve[1]
    mlserver = "1.3.2" if minor <= 13 else ("1.5.0" if minor <= 18 else "1.7.1")
    table: list[tuple[str, list[Obj], list[str], str]] = [
        ("kserve-sklearnserver", [_fmt("sklearn", "1")], ["v1", "v2"], f"kserve/sklearnserver:{tag}"),
        ("kserve-mlserver", [_fmt("sklearn", "0", priority=2), _fmt("sklearn", "1", priority=2),
                             _fmt("xgboost", "1"), *([_fmt("xgboost", "2")] if v014 else []),
                             _fmt("lightgbm", "3"), *([_fmt("lightgbm", "4")] if v014 else []),
                             _fmt("mlflow", "1"), *([_fmt("mlflow", "2")] if v014 else [])],
         ["v2"], f"docker.io/seldonio/mlserver:{mlserver}"),
        ("kserve-xgbserver", [_fmt("xgboost", "2" if new else "1")], ["v1", "v2"], f"kserve/xgbserver:{tag}"),
        ("kserve-lgbserver", [_fmt("lightgbm", "4" if new else "3")], ["v1", "v2"], f"kserve/lgbserver:{tag}"),
        ("kserve-tensorflow-serving", [_fmt("tensorflow", "1"), _fmt("tensorflow", "2")], ["v1", "grpc-v1"],
         "tensorflow/serving:2.6.2"),
        ("kserve-torchserve", [_fmt("pytorch", "1")], ["v1", "v2", "grpc-v2"], "pytorch/torchserve-kfs:0.9.0"),
        ("kserve-tritonserver", [_fmt("tensorrt", "8"), _fmt("tensorflow", "1"), _fmt("tensorflow", "2"),
                                 _fmt("onnx", "1"), _fmt("pytorch", "1", auto=False), _fmt("triton", "2")],
         ["v2", "grpc-v2"], "nvcr.io/nvidia/tritonserver:23.05-py3"),
        ("kserve-pmmlserver", [_fmt("pmml", "3"), _fmt("pmml", "4")], ["v1", "v2"], f"kserve/pmmlserver:{tag}"),
        ("kserve-paddleserver", [_fmt("paddle", "2")], ["v1", "v2"], f"kserve/paddleserver:{tag}"),
        ("kserve-huggingfaceserver", [_fmt("huggingface", "1")], ["v2", "v1"], f"kserve/huggingfaceserver:{tag}"),
    ]
    if settings.kserve_at_least("0.15"):
        table.append(("kserve-huggingfaceserver-multinode", [_fmt("huggingface", "1", priority=2)], ["v2", "v1"],
                      f"kserve/huggingfaceserver:{tag}-gpu"))
    if new:
        table.append(("kserve-predictiveserver", [_fmt("sklearn", "1", False, 3), _fmt("xgboost", "2", False, 3),
                                                  _fmt("lightgbm", "4", False, 3)], ["v1", "v2"],
                      f"kserve/predictiveserver:{tag}"))
    if settings.kserve_at_least("0.20"):
        table.append(("kserve-autogluonserver", [_fmt("autogluon", "1")], ["v1", "v2"],
                      f"kserve/autogluonserver:{tag}"))
        table.append(("kserve-vllmserver", [_fmt("vLLM", "1")], [], "vllm/vllm-openai:latest"))
    out = []
    for name, formats, protocols, image in table:
        container: Obj = {"name": "kserve-container", "image": image,
                          "args": ["--model_name={{.Name}}", "--model_dir=/mnt/models", "--http_port=8080"],
                          "resources": {"requests": {"cpu": "1", "memory": "2Gi"},
                                        "limits": {"cpu": "1", "memory": "2Gi"}}}
        spec: Obj = {"annotations": {"prometheus.kserve.io/port": "8080", "prometheus.kserve.io/path": "/metrics"},
                     "supportedModelFormats": formats, "protocolVersions": protocols, "containers": [container]}
        if name.endswith("-multinode"):
            spec["workerSpec"] = {"containers": [dict(container, name="worker-container")]}
        out.append({"apiVersion": CLUSTER_RUNTIMES.api_version, "kind": CLUSTER_RUNTIMES.kind,
                    "metadata": {"name": name}, "spec": spec})
    return out


@dataclass
class RuntimeChoice:
    name: str
    spec: Obj
    cluster: bool


@dataclass
class RuntimeFailure:
    reason: str  # modelStatus.lastFailureInfo.reason
    message: str  # modelStatus.lastFailureInfo.message
    error: str  # the controller error (Event InternalError / log)


def _format_labels(formats: list[Obj], explicit: bool) -> set[str]:
    labels: set[str] = set()
    for fmt in formats:
        if explicit or fmt.get("autoSelect"):
            labels.add(f"mt:{fmt.get('name')}")
            if fmt.get("version") is not None:
                labels.add(f"mt:{fmt.get('name')}:{fmt.get('version')}")
    return labels


def _supports(spec: Obj, model: Obj, explicit: bool) -> bool:
    fmt = model.get("modelFormat") or {}
    label = f"mt:{fmt.get('name')}" + (f":{fmt['version']}" if fmt.get("version") is not None else "")
    return label in _format_labels(spec.get("supportedModelFormats") or [], explicit)


def _priority(spec: Obj, format_name: str) -> int | None:
    for fmt in spec.get("supportedModelFormats") or []:
        if fmt.get("name") == format_name:
            return fmt.get("priority")
    return None


def _ordered(items: list[Obj], format_name: str) -> list[Obj]:
    def proto(o: Obj) -> int:
        ranks = [_PROTOCOL_RANK.get(p, 0) for p in (o.get("spec") or {}).get("protocolVersions") or []]
        return min(ranks, default=0)
    items = sorted(items, key=lambda o: o["metadata"]["name"])
    items.sort(key=lambda o: o["metadata"].get("creationTimestamp", ""), reverse=True)
    items.sort(key=proto)
    with_prio = [o for o in items if _priority(o["spec"], format_name) is not None]
    without = [o for o in items if _priority(o["spec"], format_name) is None]
    with_prio.sort(key=lambda o: -int(_priority(o["spec"], format_name) or 0))
    return with_prio + without


def model_format_repr(model: Obj) -> str:
    """How Go's %v prints a ModelFormat struct (the version is a pointer)."""
    fmt = model.get("modelFormat") or {}
    version = "<nil>" if fmt.get("version") is None else "0xc000a1c2d0"
    return f"{{{fmt.get('name', '')} {version}}}"


def select_runtime(store: Store, namespace: str, model: Obj) -> RuntimeChoice | RuntimeFailure:
    protocol = model.get("protocolVersion") or "v1"
    name = model.get("runtime")
    if name:
        obj = store.find(RUNTIMES, namespace, name)
        cluster = obj is None
        if obj is None:
            obj = store.find(CLUSTER_RUNTIMES, None, name)
        if obj is None:
            return RuntimeFailure("RuntimeNotRecognized", "Waiting for runtime to become available",
                                  f"No ServingRuntimes or ClusterServingRuntimes with the name: {name}")
        spec = obj.get("spec") or {}
        if spec.get("disabled"):
            return RuntimeFailure("RuntimeDisabled", "Specified runtime is disabled",
                                  f"specified runtime {name} is disabled")
        if model.get("protocolVersion") and protocol not in (spec.get("protocolVersions") or []):
            return RuntimeFailure("NoSupportingRuntime",
                                  "Specified runtime does not support specified protocol version",
                                  f"specified runtime {name} does not support specified protocol version")
        if not _supports(spec, model, explicit=True):
            return RuntimeFailure("NoSupportingRuntime",
                                  "Specified runtime does not support specified framework/version",
                                  f"specified runtime {name} does not support specified framework/version")
        return RuntimeChoice(name, spec, cluster)
    format_name = str((model.get("modelFormat") or {}).get("name", ""))

    def candidates(items: list[Obj]) -> list[Obj]:
        return [o for o in items
                if not (o.get("spec") or {}).get("disabled") and not (o.get("spec") or {}).get("multiModel")
                and not (o.get("spec") or {}).get("workerSpec") and _supports(o.get("spec") or {}, model, False)
                and protocol in ((o.get("spec") or {}).get("protocolVersions") or [])]
    local, _ = store.list(RUNTIMES, namespace)
    cluster_items, _ = store.list(CLUSTER_RUNTIMES)
    ordered = [(o, False) for o in _ordered(candidates(local), format_name)] + \
              [(o, True) for o in _ordered(candidates(cluster_items), format_name)]
    if not ordered:
        return RuntimeFailure("NoSupportingRuntime", "No runtime found to support specified framework/version",
                              f"no runtime found to support predictor with model type: {model_format_repr(model)}")
    obj, is_cluster = ordered[0]
    return RuntimeChoice(obj["metadata"]["name"], obj.get("spec") or {}, is_cluster)
