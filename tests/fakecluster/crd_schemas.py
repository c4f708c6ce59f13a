"""The structural schemas of the KServe CRDs the lab creates, per KServe version, written as data.

Written by hand from the CRDs KServe ships (cited below and per builder); only what the fake needs:
every property name of the objects kslab writes (so unknown fields can be pruned as a real
apiserver prunes them), with types, enums, bounds and required lists. A node marked ``open`` keeps
whatever it holds unchecked (container lists, affinity, resources, ...): a simplification, the real
schemas describe those too. Node keys: ``type`` (object, array, string, integer, boolean), ``properties``,
``required``, ``open``, ``values`` (map value schema, the CRD's additionalProperties), ``items``,
``enum``, ``minimum``, ``maximum``, ``pattern``, ``min_items``.

Facts per KServe version (0.15-0.20), from kserve/kserve@<tag>:config/crd/full/serving.kserve.io_*.yaml:

- spec.required [predictor]; spec.predictor.model.modelFormat.required [name]. The Makefile target
  ``manifests`` deletes ``spec.<component>.<field>.required`` (kserve/kserve@v0.20.0:Makefile, "remove the
  required property on framework as name field needs to be optional"), so spec.predictor.model has no
  required list, but that path misses ``spec.canary.items``: there predictor.model requires [modelFormat,
  name] and each framework shorthand (sklearn, ...) and ``os`` require [name]. ``name`` is the model's
  container name (ModelSpec inlines corev1.Container).
- spec.canary (array, x-kubernetes-list-type atomic) exists from v0.20.0; items require [predictor,
  trafficPercent]; trafficPercent integer 0..100. spec.predictor.name (pattern ^[a-z]([-a-z0-9]*[a-z0-9])?$)
  and storageContainerName from v0.20.0; storageUris (minItems 1) from v0.16.0; hostnameOverride and
  model.restartPolicyRules from v0.17.0; model.confidential from v0.20.0.
- scaleMetric enum [cpu, memory, concurrency, rps]; scaleMetricType enum [Utilization, Value,
  AverageValue]; minReplicas/maxReplicas/scaleTarget/canaryTrafficPercent/containerConcurrency/timeout
  integers without bounds (the webhook checks ranges); model.protocolVersion is a plain string.
- (Cluster)ServingRuntime (v1alpha1): spec.required [containers]; containers.items.required [name];
  workerSpec.required [containers]; supportedModelFormats.items.required [name], priority integer
  minimum 1; schedulerName from v0.17.0.
"""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]
Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """'v0.15.1' / '0.20' -> (0, 15, 1)."""
    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in text.lstrip("v").split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]

STR: Node = {"type": "string"}
INT: Node = {"type": "integer"}
BOOL: Node = {"type": "boolean"}
OBJ: Node = {"type": "object", "open": True}
ARR: Node = {"type": "array", "open": True}
STR_MAP: Node = {"type": "object", "values": STR}
DNS_LABEL = "^[a-z]([-a-z0-9]*[a-z0-9])?$"


def obj(properties: dict[str, Node], required: tuple[str, ...] = ()) -> Node:
    """A closed object: fields outside ``properties`` are unknown (pruned, or refused when strict)."""
    node: Node = {"type": "object", "properties": properties}
    if required:
        node["required"] = list(required)
    return node


def _names(text: str, node: Node) -> dict[str, Node]:
    return {name: node for name in text.split()}


FRAMEWORKS = "huggingface lightgbm onnx paddle pmml pytorch sklearn tensorflow triton xgboost"


def _component(version: Version, canary: bool) -> Node:
    """spec.predictor (and spec.canary[].predictor): PredictorSpec = pod spec + component extension."""
    props: dict[str, Node] = {
        **_names("affinity autoScaling batcher deploymentStrategy dnsConfig logger resources "
                 "securityContext workerSpec overhead", OBJ),
        **_names("containers hostAliases imagePullSecrets initContainers readinessGates resourceClaims "
                 "schedulingGates tolerations topologySpreadConstraints volumes", ARR),
        **_names("annotations labels nodeSelector", STR_MAP),
        **_names("dnsPolicy hostname nodeName preemptionPolicy priorityClassName restartPolicy runtimeClassName "
                 "schedulerName serviceAccount serviceAccountName subdomain", STR),
        **_names("automountServiceAccountToken enableServiceLinks hostIPC hostNetwork hostPID hostUsers "
                 "setHostnameAsFQDN shareProcessNamespace", BOOL),
        **_names("activeDeadlineSeconds canaryTrafficPercent containerConcurrency maxReplicas minReplicas priority "
                 "scaleTarget terminationGracePeriodSeconds timeout", INT),
        "scaleMetric": {"type": "string", "enum": ["cpu", "memory", "concurrency", "rps"]},
        "scaleMetricType": {"type": "string", "enum": ["Utilization", "Value", "AverageValue"]},
        "model": _model(version, canary),
        # canary: the Makefile's required-deletion path does not reach spec.canary.items
        **_names(FRAMEWORKS + " os", {**OBJ, "required": ["name"]} if canary else OBJ),
    }
    if version >= (0, 16, 0):
        props["storageUris"] = {"type": "array", "open": True, "min_items": 1}
    if version >= (0, 17, 0):
        props["hostnameOverride"] = STR
    if version >= (0, 20, 0):
        props["name"] = {"type": "string", "pattern": DNS_LABEL}
        props["storageContainerName"] = STR
    if canary:
        props["ephemeralContainers"] = ARR  # the Makefile drops it from spec.<component> only
    return obj(props)


def _model(version: Version, canary: bool) -> Node:
    """ModelSpec: modelFormat, runtime, storage and an inlined corev1.Container (whose ``name`` is a field)."""
    props: dict[str, Node] = {
        **_names("lifecycle livenessProbe readinessProbe resources securityContext startupProbe", OBJ),
        **_names("args command env envFrom ports resizePolicy volumeDevices volumeMounts", ARR),
        **_names("image imagePullPolicy name protocolVersion restartPolicy runtime runtimeVersion storageUri "
                 "terminationMessagePath terminationMessagePolicy workingDir", STR),
        **_names("stdin stdinOnce tty", BOOL),
        "modelFormat": obj({"name": STR, "version": STR}, required=("name",)),
        "storage": obj({"key": STR, "path": STR, "schemaPath": STR, "parameters": STR_MAP}),
    }
    if version >= (0, 17, 0):
        props["restartPolicyRules"] = ARR
    if version >= (0, 20, 0):
        props["confidential"] = {**OBJ, "required": ["enabled"]}
    return obj(props, required=("modelFormat", "name") if canary else ())


def _root(spec: Node) -> Node:
    # metadata is the apiserver's ObjectMeta (checked elsewhere); status is preserve-unknown-fields
    return obj({"apiVersion": STR, "kind": STR, "metadata": OBJ, "spec": spec, "status": OBJ})


def inference_service(version: Version) -> Node:
    """serving.kserve.io/v1beta1 InferenceService (kserve/kserve@v0.20.0:config/crd/full/
    serving.kserve.io_inferenceservices.yaml; older tags for the version differences above)."""
    spec: dict[str, Node] = {"predictor": _component(version, canary=False), "transformer": OBJ, "explainer": OBJ}
    if version >= (0, 20, 0):
        canary = obj({"predictor": _component(version, canary=True),
                      "trafficPercent": {"type": "integer", "minimum": 0, "maximum": 100}},
                     required=("predictor", "trafficPercent"))
        spec["canary"] = {"type": "array", "items": canary}
    return _root(obj(spec, required=("predictor",)))


def serving_runtime(version: Version) -> Node:
    """serving.kserve.io/v1alpha1 (Cluster)ServingRuntime (kserve/kserve@v0.20.0:config/crd/full/
    serving.kserve.io_servingruntimes.yaml and serving.kserve.io_clusterservingruntimes.yaml)."""
    formats = obj({"name": STR, "version": STR, "autoSelect": BOOL,
                   "priority": {"type": "integer", "minimum": 1}}, required=("name",))
    props: dict[str, Node] = {
        **_names("affinity builtInAdapter storageHelper", OBJ),
        "workerSpec": {**OBJ, "required": ["containers"]},
        **_names("imagePullSecrets tolerations volumes", ARR),
        **_names("annotations labels nodeSelector", STR_MAP),
        **_names("grpcDataEndpoint grpcEndpoint httpDataEndpoint", STR),
        **_names("disabled hostIPC multiModel", BOOL),
        "replicas": INT,
        "containers": {"type": "array", "items": {**OBJ, "required": ["name"]}},
        "supportedModelFormats": {"type": "array", "items": formats},
        "protocolVersions": {"type": "array", "items": STR},
    }
    if version >= (0, 17, 0):
        props["schedulerName"] = STR
    return _root(obj(props, required=("containers",)))


# resource key -> schema builder; kinds the table lacks are stored as sent (no CRD checks)
SCHEMAS = {
    "serving.kserve.io/inferenceservices": inference_service,
    "serving.kserve.io/servingruntimes": serving_runtime,
    "serving.kserve.io/clusterservingruntimes": serving_runtime,
}
