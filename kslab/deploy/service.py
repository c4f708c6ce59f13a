"""`kslab deploy` / `kslab undeploy` on a cluster.

deploy: render (template + catalog + flags) -> lint (against the cluster) -> storage (pvc/s3 only) ->
server-side apply (field manager kslab) into the lab namespace -> watch the conditions until Ready with the
generation caught up, a failure KServe reports, or the timeout. A failure or timeout is diagnosed layer by
layer (kslab/doctor/isvc.py); the diagnosis goes into the run record and the error message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from kslab.config.model import Settings
from kslab.deploy.lint import lint_isvc, require_clean
from kslab.deploy.model_uri import require_model_uri
from kslab.deploy.render import isvc_values, render_isvc
from kslab.deploy.request import AUTO_RUNTIME, DeployRequest
from kslab.deploy.storage import StoragePlan, delete_storage_objects, plan_storage, prepare_storage
from kslab.deploy.timeline import ConditionTimeline, failure_summary, outcome
from kslab.doctor.isvc import Diagnosis, diagnose_isvc
from kslab.errors import CheckFailed, UsageError, WaitTimeout
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import summarize
from kslab.kube.errors import KubeApiError
from kslab.kube.ownership import MANAGED_BY_LABEL, ensure_namespace, managed_by_kslab
from kslab.kube.wait import wait_for
from kslab.models.catalog import catalog_model
from kslab.models.run_record import RunRecord
from kslab.models.stack import StackMatrix
from kslab.session import Session
from kslab.stack.versions import load_matrix

Obj = dict[str, Any]
Observer = Callable[[str, str, str], None]


@dataclass
class DeployResult:
    name: str
    namespace: str
    mode: str
    deployment_mode: str | None
    runtime: str | None
    protocol: str
    storage_uri: str
    ready: bool
    url: str | None
    address: str | None
    latest_ready_revision: str | None
    duration_s: float
    conditions: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _result(isvc: Obj, request: DeployRequest, storage_uri: str, took_s: float,
            timeline: ConditionTimeline) -> DeployResult:
    status = isvc.get("status") or {}
    predictor = (status.get("components") or {}).get("predictor") or {}
    runtime = status.get("clusterServingRuntimeName") or status.get("servingRuntimeName") or \
        ((isvc.get("spec") or {}).get("predictor") or {}).get("model", {}).get("runtime")
    return DeployResult(
        name=request.name, namespace=isvc["metadata"]["namespace"], mode=request.mode,
        deployment_mode=status.get("deploymentMode") or (isvc["metadata"].get("annotations") or {}).get(
            "serving.kserve.io/deploymentMode"),
        runtime=runtime, protocol=request.protocol, storage_uri=storage_uri, ready=True, url=status.get("url"),
        address=(status.get("address") or {}).get("url"), latest_ready_revision=predictor.get("latestReadyRevision"),
        duration_s=round(took_s, 3),
        conditions=[{k: c.get(k) for k in ("type", "status", "reason", "message")} for c in status.get("conditions")
                    or []],
        timeline=timeline.entries)


def _diagnose(kube: Kube, record: RunRecord, name: str, namespace: str, api_error: str | None = None) -> Diagnosis:
    diagnosis = diagnose_isvc(kube, name, namespace, api_error)
    record.set("diagnosis", diagnosis.to_dict())
    return diagnosis


def render(settings: Settings, request: DeployRequest, matrix: StackMatrix | None = None) -> tuple[Obj, StoragePlan]:
    """The InferenceService kslab would apply for ``request``, and its storage plan (no cluster access)."""
    matrix = matrix or load_matrix()
    model = catalog_model(request.name)
    plan = plan_storage(request, model)
    runtime = "" if request.runtime == AUTO_RUNTIME else (request.runtime or model.runtime)
    values = isvc_values(model, matrix.release(settings.kserve_version), name=request.name,
                         namespace=settings.namespace, mode=request.mode, protocol=request.protocol, runtime=runtime,
                         storage_uri=plan.storage_uri, service_account=plan.service_account)
    return render_isvc(values), plan


def _lint_step(record: RunRecord, kube: Kube, matrix: StackMatrix, isvc: Obj, request: DeployRequest,
               observe: Observer) -> None:
    with record.step("lint", enabled=request.lint) as obs:
        if not request.lint:
            obs["_result"] = "skipped"
            observe("lint", "skip", "--skip-lint")
            return
        observe("lint", "check", "runtime, deployment mode, namespace, node resources")
        findings = lint_isvc(kube, matrix, isvc, request.mode)
        obs["checks"] = [f.to_dict() for f in findings]
        failed = [f.check for f in findings if not f.ok and f.severity in ("error", "missing")]
        observe("lint", "failed" if failed else "ready", "; ".join(failed) or f"{len(findings)} checks passed")
        require_clean(findings)


def _apply_step(record: RunRecord, kube: Kube, isvc: Obj, observe: Observer) -> None:
    name, namespace = isvc["metadata"]["name"], isvc["metadata"]["namespace"]
    with record.step("apply", namespace=namespace, field_manager="kslab") as obs:
        ensure_namespace(kube, namespace)
        try:
            applied = kube.apply(R.INFERENCE_SERVICE, isvc, namespace)
        except KubeApiError as exc:
            diagnosis = _diagnose(kube, record, name, namespace, exc.api_message)
            observe("apply", "failed", diagnosis.layer)
            raise CheckFailed(f"the API server refused InferenceService {namespace}/{name} ({exc.status} "
                              f"{exc.reason}); {diagnosis.describe()}", diagnosis.fix()) from None
        obs["generation"] = (applied.get("metadata") or {}).get("generation")
        observe("apply", "ready", f"inferenceservice/{name} -n {namespace} (generation {obs['generation']})")


def _wait_step(record: RunRecord, kube: Kube, name: str, namespace: str, timeout: float,
               timeline: ConditionTimeline) -> Obj:
    with record.step("wait", timeout_s=timeout) as obs:
        obs["timeline"] = timeline.entries  # the same list: the record shows what was seen even on failure
        try:
            final = wait_for(kube, R.INFERENCE_SERVICE, name, namespace, lambda o: outcome(o) is not None,
                             timeout=timeout, what="Ready", on_change=timeline)
        except WaitTimeout:
            diagnosis = _diagnose(kube, record, name, namespace)
            raise WaitTimeout(f"InferenceService {namespace}/{name} not Ready after {timeout:g}s; "
                              f"{diagnosis.describe()}", diagnosis.fix()) from None
        if final is None or outcome(final) == "failed":
            diagnosis = _diagnose(kube, record, name, namespace)
            raise CheckFailed(f"InferenceService {namespace}/{name} failed ({failure_summary(final or {})}); "
                              f"{diagnosis.describe()}", diagnosis.fix())
        obs["conditions"] = summarize(final)
        return final


def deploy(session: Session, request: DeployRequest, observer: Observer | None = None,
           matrix: StackMatrix | None = None) -> DeployResult:
    """Render, lint, (storage,) apply and wait; every step goes into the session's record. Raises with the
    diagnosis: UsageError (lint, exit 2), CheckFailed (refused or failed, exit 1), WaitTimeout (exit 4)."""
    settings, record = session.settings, session.require_record()
    observe = observer or (lambda *_: None)
    clock = session.env.clock
    started = clock()
    matrix = matrix or load_matrix()
    request.validate()
    with record.step("render", mode=request.mode, protocol=request.protocol, runtime=request.runtime,
                     storage=request.storage) as obs:
        isvc, plan = render(settings, request, matrix)
        model = isvc["spec"]["predictor"]["model"]
        obs.update(manifest=isvc, storage=plan.to_dict())
        if plan.kind == "uri":
            obs["model_uri"] = require_model_uri(settings, plan.storage_uri, request.name, observe).to_dict()
        observe("render", "ready", f"{isvc['metadata']['annotations']['serving.kserve.io/deploymentMode']} mode, "
                f"runtime {model.get('runtime', 'auto')}, {model['protocolVersion']}, {model['storageUri']}")
    kube, access = session.kube(), session.provider.client_access()
    _lint_step(record, kube, matrix, isvc, request, observe)
    if plan.kind != "uri":
        with record.step("storage", kind=plan.kind, storage_uri=plan.storage_uri) as obs:
            ensure_namespace(kube, settings.namespace)
            obs.update(prepare_storage(kube, access, request, plan, settings.namespace, observe, session.env.environ))
            observe("storage", "ready", plan.storage_uri)
    _apply_step(record, kube, isvc, observe)
    timeline = ConditionTimeline(observe)
    final = _wait_step(record, kube, request.name, settings.namespace, request.timeout, timeline)
    return _result(final, request, plan.storage_uri, clock() - started, timeline)


def undeploy(session: Session, name: str, timeout: float, observer: Observer | None = None) -> dict[str, Any]:
    """Delete the InferenceService kslab deployed (refusing one it did not) and wait until it is gone."""
    observe = observer or (lambda *_: None)
    clock = session.env.clock
    started = clock()
    namespace = session.settings.namespace
    kube = session.kube()
    existing = kube.find(R.INFERENCE_SERVICE, name, namespace)
    if existing is None:
        return {"name": name, "namespace": namespace, "action": "absent", "deleted": [], "duration_s": 0.0}
    if not managed_by_kslab(existing):
        raise UsageError(f"InferenceService {namespace}/{name} was not deployed by kslab (no label "
                         f"{MANAGED_BY_LABEL[0]}={MANAGED_BY_LABEL[1]}, no kslab field manager); nothing deleted",
                         f"delete it yourself if you mean to: kubectl delete inferenceservice {name} -n {namespace}")
    kube.delete(R.INFERENCE_SERVICE, name, namespace)
    observe("InferenceService", "delete", f"{namespace}/{name}")
    wait_for(kube, R.INFERENCE_SERVICE, name, namespace, lambda o: o is None, timeout=timeout, what="deleted")
    deleted = [f"InferenceService/{name}", *delete_storage_objects(kube, name, namespace)]
    observe("InferenceService", "ready", "deleted")
    return {"name": name, "namespace": namespace, "action": "deleted", "deleted": deleted,
            "duration_s": round(clock() - started, 3)}
