"""KServe's admission webhooks as store admission hooks.

- InferenceService defaulter/validator: framework shorthand -> ``spec.predictor.model``; deployment
  mode annotation (added when the default is Standard/RawDeployment/ModelMesh; 0.17+ rewrites
  Serverless->Knative and RawDeployment->Standard); 0.15.1+ rejects a mode change with
  "update rejected: deploymentMode cannot be changed from 'X' to 'Y'" (403); 0.20 validates
  ``spec.canary[]`` (kserve/kserve@v0.20.0:pkg/apis/serving/v1beta1/inference_service_validation.go
  ``validateCanarySpecs``). The defaulter runs in the mutating admission phase, the validator after the
  CRD schema checks (tests/fakecluster/crd_validation.py, which also prunes ``spec.canary`` before 0.20).
- While the webhook has no endpoints (settings.webhook_ready False, or auto: Deployment
  kserve/kserve-controller-manager exists but is not Available) InferenceService writes fail with
  the apiserver's 500 InternalError "failed calling webhook". (Cluster)ServingRuntime writes fail
  when forced, and in auto mode only during ``settings.webhook_warmup`` after the controller became
  Available ("connect: connection refused", kserve/kserve#4182): Helm registers that validator
  after the runtimes of the same release, so a fresh chart install is not refused.
- Pod mutator: pods carrying the storage-initializer source-URI annotation get the
  storage-initializer init container (not for pvc://, not in namespaces labelled control-plane).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..admission import phase
from ..errors import ApiError
from ..resources import DEPLOYMENTS, NAMESPACES, ResourceType
from ..store import Event
from .common import deployment_available, find_deployment, labels_of
from .framework import Reconciler, Request
from .kserve_config import KNATIVE, MODE_ANNOTATION, STANDARD, IsvcConfig, mode_kind, mode_name
from .kserve_predictor import FRAMEWORKS, STORAGE_URI_ANNOTATION

if TYPE_CHECKING:
    from .manager import ControllerManager
    from .settings import ControllerSettings

Obj = dict[str, Any]
ISVC_KEY = "serving.kserve.io/inferenceservices"
_RUNTIME_PATHS = {"serving.kserve.io/clusterservingruntimes": ("clusterservingruntime", "clusterservingruntime"),
                  "serving.kserve.io/servingruntimes": ("servingruntime", "servingruntime")}


class KServeWebhooks:
    """Holds the hooks; ``endpoint_error()`` says whether kserve-webhook-server-service has endpoints."""

    def __init__(self, mgr: ControllerManager) -> None:
        self.mgr = mgr
        self.store = mgr.store
        self._available_since: float | None = None

    @property
    def settings(self) -> ControllerSettings:
        return self.mgr.settings

    def hooks(self) -> list[Any]:
        return [self.inference_service, self.inference_service_validator, self.serving_runtime, self.pod]

    # -- availability ------------------------------------------------------------------------
    def endpoint_error(self, registered_early: bool = True) -> str | None:
        """None when the webhook answers, else the dial error a real apiserver would report.

        ``registered_early=False`` is for webhooks whose configuration a Helm release registers after
        its other objects (the runtime validator): they only refuse after the controller came up.
        """
        forced = self.settings.webhook_ready
        if forced is not None:
            return None if forced else 'no endpoints available for service "kserve-webhook-server-service"'
        dep = find_deployment(self.store, "kserve", "kserve-controller-manager")
        if dep is None:
            return None
        if not deployment_available(dep):
            return 'no endpoints available for service "kserve-webhook-server-service"' if registered_early else None
        self.observe(dep)
        since = self._available_since or 0.0
        if time.monotonic() - since < self.settings.delay(self.settings.webhook_warmup):
            return "dial tcp 10.96.143.18:443: connect: connection refused"
        return None

    def observe(self, dep: Obj | None) -> None:
        """Track when kserve-controller-manager became Available (start of the warm-up window)."""
        if not deployment_available(dep):
            self._available_since = None
        elif self._available_since is None:
            self._available_since = time.monotonic()

    def _refuse(self, webhook: str, path: str, cause: str) -> ApiError:
        detail = (f'failed calling webhook "{webhook}": failed to call webhook: Post '
                  f'"https://kserve-webhook-server-service.kserve.svc:443/{path}?timeout=10s": {cause}')
        return ApiError(500, "InternalError", f"Internal error occurred: {detail}", {"causes": [{"message": detail}]})

    # -- InferenceService ---------------------------------------------------------------------
    @phase("mutating")
    def inference_service(self, op: str, rt: ResourceType, new: Obj, old: Obj | None) -> Obj:
        """The defaulter (mutating webhook)."""
        if rt.key != ISVC_KEY or op not in ("CREATE", "UPDATE"):
            return new
        cause = self.endpoint_error()
        if cause is not None:
            raise self._refuse("inferenceservice.kserve-webhook-server.defaulter",
                               "mutate-serving-kserve-io-v1beta1-inferenceservice", cause)
        self._default(new)
        return new

    @phase("validating")
    def inference_service_validator(self, op: str, rt: ResourceType, new: Obj, old: Obj | None) -> Obj:
        if rt.key != ISVC_KEY or op not in ("CREATE", "UPDATE"):
            return new
        cause = self.endpoint_error()
        if cause is not None:
            raise self._refuse("inferenceservice.kserve-webhook-server.validator",
                               "validate-serving-kserve-io-v1beta1-inferenceservice", cause)
        if (new.get("metadata") or {}).get("deletionTimestamp"):
            return new
        error = self._validate(new, old)
        if error:
            raise ApiError(403, "Forbidden", 'admission webhook "inferenceservice.kserve-webhook-server.validator" '
                                             f"denied the request: {error}")
        return new

    def _default(self, isvc: Obj) -> None:
        """Mutates in place: the store keeps using the object it passed in."""
        settings = self.settings
        spec = isvc.setdefault("spec", {})
        predictor = spec.setdefault("predictor", {})
        for framework in FRAMEWORKS:
            if framework in predictor and predictor.get("model") is None:
                body = predictor.pop(framework) or {}
                predictor["model"] = {"modelFormat": {"name": framework}, **body}
        annotations = isvc.setdefault("metadata", {}).setdefault("annotations", {})
        current = annotations.get(MODE_ANNOTATION)
        if current is not None:
            kind = mode_kind(current, settings)
            if kind is not None and settings.kserve_at_least("0.17"):
                annotations[MODE_ANNOTATION] = mode_name(kind, settings)
        else:
            cfg = IsvcConfig.load(self.store, settings)
            raw_default = cfg.default_mode
            kind = mode_kind(raw_default, settings)
            if kind is not None and kind != KNATIVE:
                annotations[MODE_ANNOTATION] = mode_name(kind, settings) if settings.kserve_at_least("0.16") \
                    else raw_default
        if not annotations:
            isvc["metadata"].pop("annotations")

    def _validate(self, new: Obj, old: Obj | None) -> str | None:
        settings = self.settings
        annotations = (new.get("metadata") or {}).get("annotations") or {}
        if old is not None and settings.kserve_at_least("0.15.1"):
            recorded = ((old.get("status") or {}).get("deploymentMode")) or ""
            wanted = annotations.get(MODE_ANNOTATION)
            if recorded and wanted is not None:
                kind = mode_kind(recorded, settings)
                recorded_name = mode_name(kind, settings) if kind else recorded
                if wanted != recorded_name:
                    return (f"update rejected: deploymentMode cannot be changed from '{recorded_name}' to "
                            f"'{wanted}'")
        return self._validate_canary(new) if settings.kserve_at_least("0.20") else None

    def _validate_canary(self, isvc: Obj) -> str | None:
        spec = isvc.get("spec") or {}
        canaries = spec.get("canary") or []
        if not canaries:
            return None
        annotations = (isvc.get("metadata") or {}).get("annotations") or {}
        if mode_kind(annotations.get(MODE_ANNOTATION), self.settings) != STANDARD:
            return "canary is only supported in Standard deployment mode"
        stable = spec.get("predictor") or {}
        names: set[str] = set()
        total = 0
        for index, canary in enumerate(canaries):
            pred = canary.get("predictor") or {}
            cname = pred.get("name") or ""
            if not cname:
                return f"canary[{index}] predictor.name is required"
            if cname in names:
                return f'canary predictor.name "{cname}" is duplicated'
            names.add(cname)
            if cname == stable.get("name"):
                return f'canary predictor.name "{cname}" conflicts with stable predictor name'
            percent = int(canary.get("trafficPercent") or 0)
            if not 0 <= percent <= 100:
                return f'canary "{cname}" trafficPercent must be between 0 and 100, got {percent}'
            total += percent
            for key in ("maxReplicas", "scaleTarget", "scaleMetric", "autoScaling"):
                if pred.get(key) is not None:
                    return f'canary "{cname}" must not set {key} (canary uses fixed replicas)'
        if total > 100:
            return f"sum of canary trafficPercent values ({total}) must be <= 100"
        return None

    # -- runtimes -------------------------------------------------------------------------------
    @phase("validating")
    def serving_runtime(self, op: str, rt: ResourceType, new: Obj, old: Obj | None) -> Obj:
        if rt.key not in _RUNTIME_PATHS or op not in ("CREATE", "UPDATE"):
            return new
        cause = self.endpoint_error(registered_early=False)
        if cause is not None:
            kind, path = _RUNTIME_PATHS[rt.key]
            raise self._refuse(f"{kind}.kserve-webhook-server.validator",
                               f"validate-serving-kserve-io-v1alpha1-{path}", cause)
        return new

    # -- pods -------------------------------------------------------------------------------------
    def pod(self, op: str, rt: ResourceType, new: Obj, old: Obj | None) -> Obj:
        if rt.key != "/pods" or op != "CREATE":
            return new
        uri = ((new.get("metadata") or {}).get("annotations") or {}).get(STORAGE_URI_ANNOTATION)
        spec = new.get("spec") or {}
        if not uri or uri.startswith("pvc://") or any(c.get("name") == "storage-initializer"
                                                      for c in spec.get("initContainers") or []):
            return new
        namespace = self.store.find(NAMESPACES, None, new["metadata"].get("namespace", ""))
        if namespace is not None and "control-plane" in labels_of(namespace):
            return new
        cfg = IsvcConfig.load(self.store, self.settings)
        mount = {"name": "kserve-provision-location", "mountPath": "/mnt/models"}
        spec.setdefault("initContainers", []).append({
            "name": "storage-initializer", "image": cfg.storage_initializer_image, "args": [uri, "/mnt/models"],
            "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": [mount]})
        spec.setdefault("volumes", []).append({"name": "kserve-provision-location", "emptyDir": {}})
        for container in spec.get("containers") or []:
            if container.get("name") == "kserve-container":
                container.setdefault("volumeMounts", []).append({**mount, "readOnly": True})
        return new


class WebhookEndpointsReconciler(Reconciler):
    """Notes the moment kserve-controller-manager turns Available, for ``settings.webhook_warmup``."""

    name = "webhook-endpoints"
    watches = ("apps/deployments",)

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.namespace == "kserve" and event.object["metadata"]["name"] == "kserve-controller-manager":
            return [("kserve", "kserve-controller-manager")]
        return ()

    def resync(self) -> Iterable[Request]:
        return [("kserve", "kserve-controller-manager")]

    def reconcile(self, namespace: str, name: str) -> None:
        self.mgr.webhooks.observe(self.store.find(DEPLOYMENTS, namespace, name))
