"""The KServe controller stand-in: reconcile InferenceServices (facts §4, §5, §8).

Per InferenceService: finalizer ``inferenceservice.finalizers``; the deployment mode (recorded
status.deploymentMode > annotation > inferenceservice-config default); ServerlessModeRejected
(0.16+) when Knative mode is resolved but Knative is absent; runtime selection with
RuntimeNotRecognized / NoSupportingRuntime failures (modelStatus + InternalError Event); then the
Knative or Standard children and the status (observedGeneration = metadata.generation,
deploymentMode on 0.15.1+, clusterServingRuntimeName on 0.16+, Stopped condition on 0.15.1+).
Nothing runs while Deployment kserve/kserve-controller-manager exists but is not Available.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from ..resources import ISVCS, PODS
from ..store import Event, now_rfc3339
from .common import deployment_available, find_deployment, labels_of, owner_requests, set_status
from .conditions import find
from .framework import Reconciler, Request
from .knative_config import knative_present
from .knative_serving import KSVCS
from .kserve_config import KNATIVE, MODE_ANNOTATION, MODELMESH, IsvcConfig, mode_kind, mode_name
from .kserve_knative import reconcile_knative
from .kserve_predictor import build_predictor
from .kserve_raw import reconcile_raw
from .kserve_runtimes import CLUSTER_RUNTIMES, RUNTIMES, RuntimeChoice, select_runtime
from .kserve_status import ISVC_STATUS, invalid_spec

Obj = dict[str, Any]
FINALIZER = "inferenceservice.finalizers"
COMPONENT = "v1beta1Controllers"
_RESYNC_CONFIGMAPS = {("kserve", "inferenceservice-config"), ("knative-serving", "config-domain"),
                      ("knative-serving", "config-autoscaler")}


class InferenceServiceReconciler(Reconciler):
    name = "isvc"
    watches = (ISVCS.key, "serving.knative.dev/services", "apps/deployments", "/services", "/pods",
               "networking.k8s.io/ingresses", CLUSTER_RUNTIMES.key, RUNTIMES.key, "/configmaps")

    def requests_for(self, event: Event) -> Iterable[Request]:
        obj = event.object
        name = obj["metadata"]["name"]
        if event.key == self.primary:
            return [(event.namespace, name)]
        if event.key in (CLUSTER_RUNTIMES.key, RUNTIMES.key):
            return list(self.resync())
        if event.key == "/configmaps":
            return list(self.resync()) if (event.namespace, name) in _RESYNC_CONFIGMAPS else ()
        if event.key == "apps/deployments" and (event.namespace, name) in (("kserve", "kserve-controller-manager"),
                                                                           ("knative-serving", "controller")):
            return list(self.resync())
        if event.key == "/pods":
            isvc = labels_of(obj).get("serving.kserve.io/inferenceservice")
            return [(event.namespace, isvc)] if isvc else ()
        return owner_requests(obj, "InferenceService")

    # -- helpers ------------------------------------------------------------------------------
    def controller_running(self) -> bool:
        dep = find_deployment(self.store, "kserve", "kserve-controller-manager")
        return dep is None or deployment_available(dep)

    def controller_log(self, level: str, message: str, **fields: str) -> None:
        """Append a JSON line to the kserve-controller-manager pod's ``manager`` container log."""
        pods, _ = self.store.list(PODS, "kserve", label_selector="control-plane=kserve-controller-manager")
        line = json.dumps({"level": level, "ts": now_rfc3339(), "logger": COMPONENT, "msg": message, **fields})
        for pod in pods:
            self.mgr.node.append_log("kserve", pod["metadata"]["name"], "manager", line + "\n")

    def _event(self, isvc: Obj, etype: str, reason: str, message: str) -> None:
        self.mgr.events.record(isvc, etype, reason, message, COMPONENT)

    # -- reconcile ----------------------------------------------------------------------------
    def reconcile(self, namespace: str, name: str) -> None:
        isvc = self.store.find(ISVCS, namespace, name)
        if isvc is None or not self.controller_running():
            return
        settings = self.settings
        cfg = IsvcConfig.load(self.store, settings)
        if cfg.default_kind(settings) is None:
            self.controller_log("error", "invalid deployment mode. Supported modes are Serverless, RawDeployment and "
                                "ModelMesh" if not settings.kserve_at_least("0.16") else
                                f"invalid deployment mode {cfg.default_mode}", isvc=name)
            return
        finalizers = list(isvc["metadata"].get("finalizers") or [])
        if isvc["metadata"].get("deletionTimestamp"):
            if FINALIZER in finalizers and settings.leave_ksvc_on_delete:
                self._orphan_ksvcs(isvc)
            if FINALIZER in finalizers:
                self.store.mutate(ISVCS, namespace, name, lambda o: o["metadata"].update(
                    finalizers=[f for f in o["metadata"].get("finalizers") or [] if f != FINALIZER]), manager="manager")
            return
        if FINALIZER not in finalizers:
            isvc = self.store.mutate(ISVCS, namespace, name, lambda o: o["metadata"].update(
                finalizers=[*(o["metadata"].get("finalizers") or []), FINALIZER]), manager="manager") or isvc
        kind = self._mode(isvc, cfg)
        before = copy.deepcopy(isvc.get("status") or {})
        status = copy.deepcopy(before)
        if find(status.get("conditions"), "Ready") is None:
            ISVC_STATUS.initialize(status)
        caught_up = self._reconcile_mode(isvc, status, kind, cfg)
        self._write_status(isvc, before, status, kind, caught_up)

    def _orphan_ksvcs(self, isvc: Obj) -> None:
        """Failure knob leave_ksvc_on_delete: drop the ISVC owner reference so GC leaves the ksvcs behind."""
        uid = isvc["metadata"].get("uid")
        for ksvc in self.store.list(KSVCS, isvc["metadata"]["namespace"])[0]:
            refs = ksvc["metadata"].get("ownerReferences") or []
            if any(r.get("uid") == uid for r in refs):
                self.store.mutate(KSVCS, ksvc["metadata"]["namespace"], ksvc["metadata"]["name"],
                                  lambda o: o["metadata"].update(ownerReferences=[
                                      r for r in o["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]),
                                  manager="manager")

    def _mode(self, isvc: Obj, cfg: IsvcConfig) -> str:
        settings = self.settings
        recorded = ((isvc.get("status") or {}).get("deploymentMode")) or ""
        if recorded and mode_kind(recorded, settings):
            return str(mode_kind(recorded, settings))
        annotation = ((isvc["metadata"].get("annotations") or {}).get(MODE_ANNOTATION))
        return mode_kind(annotation, settings) or str(cfg.default_kind(settings))

    def _reconcile_mode(self, isvc: Obj, status: Obj, kind: str, cfg: IsvcConfig) -> bool:
        """Reconcile the mode's children; True when they reflect the current spec (observedGeneration)."""
        name = isvc["metadata"]["name"]
        settings = self.settings
        if kind == MODELMESH:
            return True
        if kind == KNATIVE and not knative_present(self.store, settings):
            if settings.kserve_at_least("0.16"):
                self._event(isvc, "Warning", "ServerlessModeRejected",
                            "It is not possible to use Knative deployment mode when Knative Services are not available")
                self.controller_log("error", "Reconciler error", isvc=name,
                                    error=f"the resolved deployment mode of InferenceService '{name}' is Knative, "
                                          "but Knative Serving is not available")
            else:
                self._fail(isvc, 'fails to reconcile predictor: no matches for kind "Service" in version '
                           '"serving.knative.dev/v1"')
            return True
        predictor = (isvc.get("spec") or {}).get("predictor") or {}
        runtime_spec: Obj | None = None
        if predictor.get("model") is not None:
            choice = select_runtime(self.store, isvc["metadata"]["namespace"], predictor["model"])
            if not isinstance(choice, RuntimeChoice):
                invalid_spec(status, choice.reason, choice.message)
                self._fail(isvc, choice.error)
                return True
            runtime_spec = choice.spec
            if settings.kserve_at_least("0.16"):
                status.pop("servingRuntimeName", None)
                status.pop("clusterServingRuntimeName", None)
                status["clusterServingRuntimeName" if choice.cluster else "servingRuntimeName"] = choice.name
        plan = build_predictor(isvc, runtime_spec, cfg)
        if settings.kserve_at_least("0.15.1") and find(status.get("conditions"), "Stopped") is None:
            ISVC_STATUS.mark_false(status, "Stopped")
        if kind == KNATIVE:
            return reconcile_knative(self, isvc, status, plan)
        return reconcile_raw(self, isvc, status, plan, cfg, runtime_spec)

    def _fail(self, isvc: Obj, error: str) -> None:
        self._event(isvc, "Warning", "InternalError", error)
        self.controller_log("error", "Failed to reconcile", Name=isvc["metadata"]["name"], error=error)

    def _write_status(self, isvc: Obj, before: Obj, status: Obj, kind: str, caught_up: bool) -> None:
        if self.settings.kserve_at_least("0.15.1"):
            status["deploymentMode"] = mode_name(kind, self.settings)
        if caught_up:
            status["observedGeneration"] = isvc["metadata"].get("generation", 1)
        name = isvc["metadata"]["name"]
        written = set_status(self.store, ISVCS, isvc, status, manager="manager")
        if written is None or status == before:
            return
        was = (find(before.get("conditions"), "Ready") or {}).get("status")
        now = (find(status.get("conditions"), "Ready") or {}).get("status")
        if was != "True" and now == "True":
            self._event(written, "Normal", "InferenceServiceReady", f"InferenceService [{name}] is Ready")
        elif was == "True" and now == "False":
            failing = [c["type"] for c in status.get("conditions") or []
                       if c.get("status") == "False" and c.get("type") != "Stopped"]
            self._event(written, "Warning", "InferenceServiceNotReady",
                        f"InferenceService [{name}] is no longer Ready because of: {failing}")
