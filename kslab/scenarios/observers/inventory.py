"""``isvc`` (a status snapshot of the InferenceService) and ``resources`` (which child objects exist)."""

from __future__ import annotations

from typing import Any

from kslab.errors import UsageError
from kslab.kube import resources as R
from kslab.kube.errors import NotFound
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import predictor_status, read_isvc
from kslab.scenarios.resources import ref_for_kind


def _mode(recorded: str | None, settings_mode: str) -> str:
    value = str(recorded or "").lower()
    if value in ("knative", "serverless"):
        return "knative"
    if value in ("standard", "rawdeployment"):
        return "standard"
    return settings_mode


def observe_isvc(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    """A status snapshot; with ``missing_ok: true`` a missing InferenceService gives ``{"exists": false}``.
    ``knative`` / ``standard`` say the mode (recorded by KServe, else the annotation, else kslab's --mode)."""
    if options.get("missing_ok"):
        found = ctx.kube().find(R.INFERENCE_SERVICE, options.get("name") or ctx.isvc, ctx.namespace)
        if found is None:
            mode = ctx.settings.mode
            return {"exists": False, "ready": False, "mode": mode, "knative": mode == "knative",
                    "standard": mode == "standard"}
    isvc = read_isvc(ctx, options.get("name"))
    status = isvc.get("status") or {}
    conditions = {str(c.get("type")): str(c.get("status")) for c in status.get("conditions") or []}
    predictor = predictor_status(isvc)
    annotations = (isvc.get("metadata") or {}).get("annotations") or {}
    recorded = status.get("deploymentMode") or annotations.get("serving.kserve.io/deploymentMode")
    mode = _mode(recorded, ctx.settings.mode)
    return {
        "exists": True,
        "mode": mode, "knative": mode == "knative", "standard": mode == "standard",
        "ready": conditions.get("Ready") == "True",
        "conditions": conditions,
        "reasons": {str(c.get("type")): c.get("reason") for c in status.get("conditions") or [] if c.get("reason")},
        "url": status.get("url"),
        "deployment_mode": recorded,
        "latest_ready_revision": predictor.get("latestReadyRevision"),
        "latest_created_revision": predictor.get("latestCreatedRevision"),
        "latest_rolledout_revision": predictor.get("latestRolledoutRevision"),
        "traffic": predictor.get("traffic") or [],
        "generation": (isvc.get("metadata") or {}).get("generation"),
        "observed_generation": status.get("observedGeneration"),
        "components": sorted((status.get("components") or {}).keys()),
    }


def _entries(options: dict[str, Any], key: str, ctx: ScenarioContext) -> list[tuple[str, str, str]]:
    out = []
    for item in options.get(key) or []:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise UsageError(f"with.{key} items must be [apiVersion, kind, name], got {item!r}",
                             'example: ["serving.knative.dev/v1", "Service", "{isvc}-predictor"]')
        name = str(item[2]).replace("{isvc}", ctx.isvc).replace("{namespace}", ctx.namespace)
        out.append((str(item[0]), str(item[1]), name))
    return out


def _exists(ctx: ScenarioContext, api_version: str, kind: str, name: str) -> bool:
    try:
        ref = ref_for_kind(api_version, kind)
        return ctx.kube().find(ref, name, ctx.namespace if ref.namespaced else None) is not None
    except NotFound:  # the API group itself is not installed: nothing of that kind exists
        return False


def observe_resources(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    present, absent, problems = [], [], []
    for wanted_present, key in ((True, "expect_present"), (False, "expect_absent")):
        for api_version, kind, name in _entries(options, key, ctx):
            exists = _exists(ctx, api_version, kind, name)
            (present if exists else absent).append([api_version, kind, name])
            if exists != wanted_present:
                problems.append(f"{kind} {name} ({api_version}) is {'missing' if wanted_present else 'still present'}"
                                f" in namespace {ctx.namespace}")
    return {"present": present, "absent": absent, "ok": not problems, "problems": problems}
