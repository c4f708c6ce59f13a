"""``rollout``: a model-version change under continuous traffic, per side, until the new version serves 100 %.

For each Ready side in turn: load starts at ``concurrency`` connections through the side's managed endpoint;
after ``lead`` the InferenceService's ``spec.predictor.model.storageUri`` is changed to the new version; the
observer then polls until the new version takes all the traffic, keeps the load on for ``settle`` and stops it.
"Serves 100 %" is read the way each mode routes:

- serverless: a new Knative revision; done when the predictor's ``status.traffic`` gives 100 % to the latest
  ready revision and that is the latest created one (knative/serving@knative-v1.21.1 Route status);
- raw: a rolling update of the predictor Deployment (maxSurge/maxUnavailable 25 %,
  kserve/kserve@v0.20.0:pkg/controller/v1beta1/inferenceservice/reconcilers/deployment/deployment_reconciler.go);
  done when every live predictor pod carries the new URI in KServe's
  ``internal.serving.kserve.io/storage-initializer-sourceuri`` annotation (kserve/kserve@v0.20.0:
  pkg/constants/constants.go) and one of them is Ready.

Options: serverless, raw, model_version (v2) or storage_uri, concurrency (4), lead (1s), settle (1s),
timeout (300s). Result: sides{side: {isvc, mechanism, from_uri, to_uri, done, rollout_s, patched_at_s,
done_at_s, requests, ok, errors, p50_ms, p99_ms, series[{t, requests, ok, errors, p50_ms, p99_ms}]}}, skipped.
"""

from __future__ import annotations

from typing import Any

from kslab.kube import resources as R
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import number, predictor_status, seconds
from kslab.scenarios.observers.modes import (
    BackgroundLoad,
    is_ready,
    live_pods,
    load_figures,
    model_of,
    ready_sides,
    request_body,
    side_target,
    wait_until,
)

SOURCE_URI = "internal.serving.kserve.io/storage-initializer-sourceuri"
MECHANISM = {"serverless": "Knative revision", "raw": "Deployment rolling update"}


def _new_uri(ctx: ScenarioContext, options: dict[str, Any]) -> str:
    from kslab.models.catalog import catalog_model

    if options.get("storage_uri"):
        return str(options["storage_uri"])
    return str(catalog_model(model_of(ctx, options)).storage_uri_of(str(options.get("model_version") or "v2")))


def serves_new(ctx: ScenarioContext, side: str, name: str, uri: str) -> bool:
    isvc = ctx.kube().find(R.INFERENCE_SERVICE, name, ctx.namespace) or {}
    if side == "serverless":
        predictor = predictor_status(isvc)
        latest = predictor.get("latestReadyRevision")
        traffic = predictor.get("traffic") or []
        return bool(latest) and latest == predictor.get("latestCreatedRevision") and sum(
            int(t.get("percent") or 0) for t in traffic if t.get("revisionName") == latest) == 100
    pods = live_pods(ctx, name)
    return bool(pods) and any(is_ready(p) for p in pods) and all(
        ((p.get("metadata") or {}).get("annotations") or {}).get(SOURCE_URI) == uri for p in pods)


def _one(ctx: ScenarioContext, side: str, name: str, uri: str, options: dict[str, Any], body: bytes) -> dict[str, Any]:
    timeout = seconds(options, "timeout", 300.0)
    isvc = ctx.kube().get(R.INFERENCE_SERVICE, name, ctx.namespace)
    before = str(((isvc.get("spec") or {}).get("predictor") or {}).get("model", {}).get("storageUri") or "")
    out: dict[str, Any] = {"isvc": name, "mechanism": MECHANISM[side], "from_uri": before, "to_uri": uri}
    with side_target(ctx, name, body) as target:
        load = BackgroundLoad(target, int(number(options, "concurrency", 4, 1)), timeout + 60)
        try:
            ctx.stop.wait(seconds(options, "lead", 1.0))
            ctx.kube().patch_merge(R.INFERENCE_SERVICE, name, {"spec": {"predictor": {"model": {"storageUri": uri}}}},
                                   ctx.namespace)
            out["patched_at_s"] = load.since()
            ctx.mark(f"rollout: {side} -> {uri}")
            out["done"] = wait_until(ctx, lambda: serves_new(ctx, side, name, uri), timeout)
            out["done_at_s"] = load.since() if out["done"] else None
            ctx.mark(f"rollout: {side} " + ("serves the new version" if out["done"] else "timed out"))
            if out["done"]:
                ctx.stop.wait(seconds(options, "settle", 1.0))
        finally:
            result = load.stop()
    if result.get("interrupted") and ctx.stop.is_set():
        raise KeyboardInterrupt
    out["rollout_s"] = round(out["done_at_s"] - out["patched_at_s"], 3) if out.get("done_at_s") else None
    out.update({k: v for k, v in load_figures(result).items() if k in ("requests", "ok", "errors", "p50_ms",
                                                                       "p99_ms")})
    out["series"] = [{k: row.get(k) for k in ("t", "requests", "ok", "errors", "p50_ms", "p99_ms")}
                     for row in result.get("series") or [] if not row.get("warmup")]
    return out


def observe_rollout(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    ready, skipped = ready_sides(ctx, options)
    uri = _new_uri(ctx, options)
    body = request_body(ctx, options)
    sides = {}
    for side, name in ready.items():
        ctx.progress("rollout", "patch", f"{name}: storageUri -> {uri}")
        sides[side] = _one(ctx, side, name, uri, options, body)
    return {"sides": sides, "skipped": skipped, "to_uri": uri}
