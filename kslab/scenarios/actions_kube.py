"""Scenario actions that talk to the Kubernetes API: apply, patch, annotate, delete, wait, collect.

The InferenceService is rendered by kslab.deploy (template + catalog + mode), then a step's variants
(model version, canary percent, annotations, labels) are set on it; every object applied carries kslab's
managed-by label. Every action that changes an object changes only kslab's (kslab/kube/ownership.py): `apply`
refuses to take over a same-named object kslab did not create, `patch`, `annotate` and `delete` refuse one
without kslab's label or field manager.
"""

from __future__ import annotations

from typing import Any

from kslab.errors import CheckFailed, KslabError, UsageError
from kslab.kube.conditions import condition_is, is_current, summarize
from kslab.kube.resources import ResourceRef
from kslab.scenarios import fieldpath
from kslab.scenarios.context import ScenarioContext, StepCall
from kslab.scenarios.resources import ref_for, ref_for_kind

Obj = dict[str, Any]
ISVC_LABEL = "serving.kserve.io/inferenceservice"
MODEL_CONTAINER = "kserve-container"  # KServe's constants.InferenceServiceContainerName
LOG_CONTAINERS = ("storage-initializer", MODEL_CONTAINER)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _wait_timeout(ctx: ScenarioContext, call: StepCall) -> float:
    return call.timeout or float(ctx.settings.timeouts.deploy)


def render_isvc(ctx: ScenarioContext, spec: dict[str, Any]) -> Obj:
    """The lab's InferenceService for ``spec`` (apply: {isvc: NAME, ...}) with the step's variants applied."""
    from kslab.deploy.request import DeployRequest
    from kslab.deploy.service import render
    from kslab.scenarios.model_source import model_uri

    name = str(spec["isvc"])
    model = str(spec.get("model") or name)  # the catalog model; the InferenceService may be named otherwise
    storage_uri = spec.get("storage_uri")
    source = str(spec.get("model_source") or "catalog")
    if storage_uri is None and (spec.get("model_version") or source != "catalog"):
        storage_uri = model_uri(ctx, model, str(spec.get("model_version") or "v1"), source,
                                float(ctx.settings.timeouts.deploy))
    request = DeployRequest(name=model, mode=str(spec.get("mode") or ctx.settings.mode),
                            protocol=str(spec.get("protocol") or "v1"), storage_uri=storage_uri).validate()
    isvc, _ = render(ctx.settings, request)
    meta = isvc["metadata"]
    if model != name:
        meta["name"] = name
        meta.setdefault("labels", {})["app.kubernetes.io/name"] = name
    isvc["spec"]["predictor"].update(dict(spec.get("predictor") or {}))  # minReplicas, scaleMetric, ...
    meta.setdefault("annotations", {}).update({str(k): _text(v) for k, v in (spec.get("annotations") or {}).items()})
    meta.setdefault("labels", {}).update({str(k): _text(v) for k, v in (spec.get("labels") or {}).items()})
    if spec.get("standard_canary") is not None:
        isvc["spec"]["canary"] = [_standard_canary(isvc, name, dict(spec["standard_canary"]))]
    if spec.get("canary_percent") is not None:
        percent = int(spec["canary_percent"])
        if not 0 <= percent <= 100:
            raise UsageError(f"canary_percent {percent} is not between 0 and 100")
        isvc["spec"]["predictor"]["canaryTrafficPercent"] = percent
    return isvc


def _standard_canary(isvc: Obj, name: str, canary: dict[str, Any]) -> Obj:
    """A spec.canary[] item (KServe 0.20+, Standard mode): the stable model with another storage URI.

    predictor.name names the canary's Deployment <isvc>-<name>-predictor
    (kserve/kserve@v0.20.0:pkg/apis/serving/v1beta1/inference_service.go, CanarySpec). The CRD requires
    ``name`` and ``modelFormat`` in the canary's predictor.model
    (kserve/kserve@v0.20.0:config/crd/full/serving.kserve.io_inferenceservices.yaml), and that ``name`` is
    the model's container name (ModelSpec inlines corev1.Container), which KServe merges over the runtime's
    container (kserve/kserve@v0.20.0:pkg/controller/v1beta1/inferenceservice/components/predictor.go): it
    has to stay "kserve-container" or the canary pods' model container would be renamed.
    """
    from kslab.models.catalog import catalog_model

    if not canary.get("name") or canary.get("percent") is None:
        raise UsageError("standard_canary needs name and percent (and model_version or storage_uri)")
    uri = canary.get("storage_uri") or catalog_model(name).storage_uri_of(str(canary.get("model_version") or "v2"))
    stable = isvc["spec"]["predictor"]["model"]
    model = {**stable, "name": MODEL_CONTAINER, "modelFormat": dict(stable["modelFormat"]), "storageUri": str(uri)}
    return {"predictor": {"name": str(canary["name"]), "model": model}, "trafficPercent": int(canary["percent"])}


def _manifests(ctx: ScenarioContext, spec: dict[str, Any]) -> list[Obj]:
    from kslab.kube.ownership import managed_labels

    if spec.get("isvc") is not None:
        return [render_isvc(ctx, spec)]
    if spec.get("file") is not None:
        from kslab.deploy.render import render_manifests
        from kslab.paths import manifests_dir

        relative = str(spec["file"])
        if ".." in relative.split("/") or relative.startswith("/") or not (manifests_dir() / relative).is_file():
            raise UsageError(f"apply.file {relative!r} is not a file under manifests/")
        values = {"name": ctx.isvc, "namespace": ctx.namespace,
                  **{str(k): _text(v) for k, v in (spec.get("values") or {}).items()}}
        docs = render_manifests(relative, values)
    else:
        docs = [dict(spec["manifest"])]
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("labels", {}).update(managed_labels())
    return docs


def _check_model_uris(ctx: ScenarioContext, call: StepCall, doc: Obj) -> None:
    """A public model URI of an InferenceService that does not exist fails the step before it is applied."""
    from kslab.deploy.model_uri import require_model_uri

    if doc.get("kind") != "InferenceService":
        return
    spec = doc.get("spec") or {}
    models = [(spec.get("predictor") or {}).get("model") or {}]
    models += [((c or {}).get("predictor") or {}).get("model") or {} for c in spec.get("canary") or []]
    for uri in sorted({str(m["storageUri"]) for m in models if m.get("storageUri")}):
        require_model_uri(ctx.settings, uri, str(doc["metadata"]["name"]),
                          lambda _step, state, detail: ctx.progress(call.name, state, detail))


def apply(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    from kslab.kube.ownership import ensure_namespace

    kube = ctx.kube()
    ensure_namespace(kube, ctx.namespace)
    applied, manifests = [], []
    docs = _manifests(ctx, dict(call.value))
    for doc in docs:  # every object is checked before any is applied: a refused step changes nothing
        ref = ref_for_kind(str(doc.get("apiVersion")), str(doc.get("kind")))
        namespace = doc["metadata"].setdefault("namespace", ctx.namespace) if ref.namespaced else None
        existing = kube.find(ref, str(doc["metadata"]["name"]), namespace)
        if existing is not None:
            _require_kslabs(ref, str(doc["metadata"]["name"]), namespace, existing, "take over")
    for doc in docs:
        _check_model_uris(ctx, call, doc)
        ref = ref_for_kind(str(doc.get("apiVersion")), str(doc.get("kind")))
        namespace = doc["metadata"]["namespace"] if ref.namespaced else None
        result = kube.apply(ref, doc, namespace)
        applied.append({"kind": doc.get("kind"), "name": doc["metadata"]["name"], "namespace": namespace,
                        "generation": (result.get("metadata") or {}).get("generation")})
        manifests.append(doc)
        ctx.progress(call.name, "apply", f"{doc.get('kind')}/{doc['metadata']['name']}")
    out: dict[str, Any] = {"applied": applied, "manifests": manifests}
    if call.value.get("isvc") is not None and call.value.get("wait", False):
        out["wait"] = wait_isvc_ready(ctx, str(call.value["isvc"]), _wait_timeout(ctx, call))
    return out


def _require_kslabs(ref: ResourceRef, name: str, namespace: str | None, existing: Obj, verb: str) -> None:
    """CheckFailed unless kslab created ``existing`` (its managed-by label or its field manager)."""
    from kslab.kube.ownership import MANAGED_BY_LABEL, managed_by_kslab

    if managed_by_kslab(existing):
        return
    where = f" -n {namespace}" if namespace else ""
    raise CheckFailed(f"{ref.describe(name, namespace)} was not created by kslab (no label "
                      f"{MANAGED_BY_LABEL[0]}={MANAGED_BY_LABEL[1]}); the scenario does not {verb} it",
                      f"run the scenario in another namespace, or remove it yourself if you mean to: kubectl "
                      f"delete {ref.plural} {name}{where}")


def _owned(ctx: ScenarioContext, ref: ResourceRef, name: str, verb: str) -> None:
    """CheckFailed unless the object ``verb`` would change exists and kslab created it."""
    existing = ctx.kube().find(ref, name, ctx.namespace)
    if existing is None:
        raise CheckFailed(f"{ref.describe(name, ctx.namespace)} does not exist, nothing to {verb}")
    _require_kslabs(ref, name, ctx.namespace, existing, verb)


def patch(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    ref, name = ref_for(call.value["resource"]), str(call.value["name"])
    _owned(ctx, ref, name, "patch")
    result = ctx.kube().patch_merge(ref, name, dict(call.value["merge"]), ctx.namespace)
    return {"patched": f"{ref.kind}/{name}", "generation": (result.get("metadata") or {}).get("generation")}


def annotate(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    ref, name = ref_for(call.value["resource"]), str(call.value["name"])
    annotations = {str(k): None if v is None else _text(v) for k, v in call.value["annotations"].items()}
    _owned(ctx, ref, name, "annotate")
    result = ctx.kube().patch_merge(ref, name, {"metadata": {"annotations": annotations}}, ctx.namespace)
    return {"annotated": f"{ref.kind}/{name}", "annotations": annotations,
            "generation": (result.get("metadata") or {}).get("generation")}


def delete(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    from kslab.kube.wait import wait_for

    ref, name = ref_for(call.value["resource"]), str(call.value["name"])
    kube = ctx.kube()
    existing = kube.find(ref, name, ctx.namespace)
    if existing is None:
        if call.value.get("missing_ok", False):
            return {"deleted": None, "absent": True}
        raise CheckFailed(f"{ref.describe(name, ctx.namespace)} does not exist, nothing to delete",
                          "set missing_ok: true on the step if that is fine")
    _require_kslabs(ref, name, ctx.namespace, existing, "delete")
    kube.delete(ref, name, ctx.namespace)
    if call.value.get("wait", True):
        wait_for(kube, ref, name, ctx.namespace, lambda o: o is None, timeout=_wait_timeout(ctx, call),
                 what="deleted")
    return {"deleted": f"{ref.kind}/{name}"}


def wait_isvc_ready(ctx: ScenarioContext, name: str, timeout: float) -> dict[str, Any]:
    """Ready with the generation caught up, or CheckFailed as soon as KServe reports a failure."""
    from kslab.deploy.timeline import failure_summary, outcome
    from kslab.kube import resources as R
    from kslab.kube.wait import wait_for

    final = wait_for(ctx.kube(), R.INFERENCE_SERVICE, name, ctx.namespace, lambda o: outcome(o) is not None,
                     timeout=timeout, what="Ready (generation caught up)")
    if final is None or outcome(final) == "failed":
        raise CheckFailed(f"InferenceService {ctx.namespace}/{name} failed ({failure_summary(final or {})})"
                          f"{_model_failure(final)}: {summarize(final)}", f"kslab doctor {name}")
    return {"conditions": summarize(final), "generation": final["metadata"].get("generation")}


def _model_failure(obj: Obj | None) -> str:
    """'; model: ModelLoadFailed: RuntimeError: Failed to fetch model ...' from modelStatus.lastFailureInfo."""
    info = (((obj or {}).get("status") or {}).get("modelStatus") or {}).get("lastFailureInfo") or {}
    if not info.get("reason"):
        return ""
    lines = [line.strip() for line in str(info.get("message") or "").splitlines() if line.strip()]
    return f"; model: {info['reason']}" + (f": {lines[-1][:240]}" if lines else "")


def _predicate(spec: dict[str, Any]) -> tuple[Any, str]:
    if spec.get("absent"):
        return (lambda o: o is None), "deleted"
    if spec.get("condition") is not None:
        kind, status = str(spec["condition"]), str(spec.get("status") or "True")
        generation = bool(spec.get("generation", False))
        return ((lambda o: condition_is(o, kind, status) and (not generation or is_current(o))),
                f"{kind}={status}" + (" (generation caught up)" if generation else ""))
    path, expected = str(spec["field"]), spec.get("equals")
    fieldpath.parse(path)
    return (lambda o: o is not None and fieldpath.equal(fieldpath.get(o, path), expected)), f"{path} == {expected!r}"


def wait(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    from kslab.kube.wait import wait_for

    spec = dict(call.value)
    ref, name = ref_for(spec["resource"]), str(spec["name"])
    timeout = _wait_timeout(ctx, call)
    if spec["resource"] == "isvc" and spec.get("condition") == "Ready" and str(spec.get("status", "True")) == "True" \
            and spec.get("generation"):
        return wait_isvc_ready(ctx, name, timeout)  # fails fast when KServe reports the rollout failed
    predicate, what = _predicate(spec)
    ctx.progress(call.name, "wait", f"{ref.kind}/{name} {what}")
    final = wait_for(ctx.kube(), ref, name, ctx.namespace, predicate, timeout=timeout, what=what)
    out: dict[str, Any] = {"waited_for": what, "conditions": summarize(final) if final else None}
    if spec.get("field"):
        out["value"] = fieldpath.get(final, str(spec["field"]))
    return out


def _safe(what: str, fn: Any, errors: dict[str, str]) -> Any:
    try:
        return fn()
    except KslabError as exc:
        errors[what] = exc.message
        return None


def collect(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    """Evidence for a failure: isvc conditions, namespace events, predictor pod logs (each part best effort)."""
    from kslab.kube import resources as R

    spec = dict(call.value or {})
    kube, errors, out = ctx.kube(), {}, {}  # type: ignore[var-annotated]
    tail = int(spec.get("tail", 50))
    if spec.get("conditions", True):
        isvc = _safe("isvc", lambda: kube.find(R.INFERENCE_SERVICE, ctx.isvc, ctx.namespace), errors)
        status = (isvc or {}).get("status") or {}
        out["isvc"] = {"exists": isvc is not None, "conditions": status.get("conditions") or [],
                       "modelStatus": status.get("modelStatus"), "components": status.get("components")}
    if spec.get("events", True):
        listed = _safe("events", lambda: kube.list(R.EVENT, ctx.namespace)[0], errors) or []
        listed.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
        out["events"] = [{"object": f"{(e.get('involvedObject') or {}).get('kind')}/"
                                    f"{(e.get('involvedObject') or {}).get('name')}", "type": e.get("type"),
                          "reason": e.get("reason"), "message": e.get("message"), "count": e.get("count")}
                         for e in listed[-tail:]]
    if spec.get("logs", True):
        pods = _safe("pods", lambda: kube.list(R.POD, ctx.namespace, label_selector=f"{ISVC_LABEL}={ctx.isvc}")[0],
                     errors) or []
        logs: dict[str, str] = {}
        for pod in pods[:6]:
            pod_name = pod["metadata"]["name"]
            spec_ = pod.get("spec") or {}
            declared = {c.get("name") for c in [*(spec_.get("initContainers") or []), *(spec_.get("containers") or [])]}
            for container in (c for c in LOG_CONTAINERS if c in declared):
                text = _safe(f"logs {pod_name}/{container}",
                             lambda p=pod_name, c=container: kube.pod_log(p, ctx.namespace, c, tail), errors)
                if text:
                    logs[f"{pod_name}/{container}"] = text
        out["pods"] = [{"name": p["metadata"]["name"], "phase": (p.get("status") or {}).get("phase")} for p in pods]
        out["logs"] = logs
    if errors:
        out["errors"] = errors
    return out
