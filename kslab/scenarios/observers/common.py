"""What several observers share: reading the InferenceService and sending requests to its endpoint."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from kslab.errors import CheckFailed, UsageError
from kslab.kube import resources as R
from kslab.models.endpoint import Endpoint
from kslab.scenarios.context import ScenarioContext

Obj = dict[str, Any]
IRIS = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]  # both class 1 (KServe's e2e test_sklearn.py)


def read_isvc(ctx: ScenarioContext, name: str | None = None) -> Obj:
    isvc = ctx.kube().find(R.INFERENCE_SERVICE, name or ctx.isvc, ctx.namespace)
    if isvc is None:
        raise CheckFailed(f"InferenceService {name or ctx.isvc} not found in namespace {ctx.namespace}",
                          "deploy it in an earlier step (apply: isvc)")
    return isvc


def predictor_status(isvc: Obj) -> Obj:
    return ((isvc.get("status") or {}).get("components") or {}).get("predictor") or {}


def configured_split(isvc: Obj) -> dict[str, float]:
    """Percent per revision from status.components.predictor.traffic (duplicates summed). Standard mode has
    no traffic: the predictor Deployment takes what the 0.20 ``status.canaryStatuses[]`` leave."""
    out: dict[str, float] = {}
    for target in predictor_status(isvc).get("traffic") or []:
        revision = target.get("revisionName")
        if revision:
            out[revision] = out.get(revision, 0.0) + float(target.get("percent") or 0)
    if out:
        return out
    name = isvc["metadata"]["name"]
    for canary in (isvc.get("status") or {}).get("canaryStatuses") or []:
        if canary.get("name"):
            out[f"{name}-{canary['name']}-predictor"] = float(canary.get("trafficPercent") or 0)
    out[f"{name}-predictor"] = max(0.0, 100.0 - sum(out.values()))
    return out


def latest_revision(isvc: Obj) -> str | None:
    for target in predictor_status(isvc).get("traffic") or []:
        if target.get("latestRevision") and target.get("revisionName"):
            return str(target["revisionName"])
    return predictor_status(isvc).get("latestReadyRevision")


def instances(options: dict[str, Any]) -> list[list[float]]:
    rows = options.get("instances") or IRIS
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise UsageError("with.instances must be a list of feature lists", "example: [[6.8, 2.8, 4.8, 1.4]]")
    return [[float(v) for v in row] for row in rows]


def number(options: dict[str, Any], key: str, default: float, minimum: float = 0) -> float:
    raw = options.get(key, default)
    try:
        parsed = float(raw)
    except (TypeError, ValueError):
        raise UsageError(f"with.{key} must be a number, got {raw!r}") from None
    if parsed < minimum:
        raise UsageError(f"with.{key} must be at least {minimum:g}, got {raw!r}")
    return parsed


def seconds(options: dict[str, Any], key: str, default: float) -> float:
    """A duration option: '90s', '2m', '500ms' or a number of seconds."""
    from kslab.scenarios.validate import parse_duration

    raw = options.get(key, default)
    parsed = parse_duration(raw)
    if parsed is None:
        raise UsageError(f"with.{key} must be a duration such as 90s or 2m, got {raw!r}")
    return parsed


@contextlib.contextmanager
def endpoint(ctx: ScenarioContext, **kwargs: Any) -> Iterator[Endpoint]:
    """The managed endpoint of the InferenceService under test (a port-forward kept open for the block). An
    InferenceService named otherwise than its catalog model (mode-compare's ``<model>-serverless``) is forwarded
    by its name on a cluster provider, past the provider's catalog check."""
    from kslab.models.catalog import load_catalog

    forwarded = getattr(ctx.provider, "forwarded", None)
    if ctx.isvc in load_catalog() or not ctx.provider.has_cluster or forwarded is None:
        with ctx.provider.endpoint(ctx.isvc, **kwargs) as found:
            yield found
        return
    with forwarded(ctx.isvc, **kwargs) as held:
        yield held.endpoint


def send_load(ctx: ScenarioContext, requests: int, concurrency: int, protocol: str,
              rows: list[list[float]]) -> dict[str, Any]:
    """``requests`` predict calls of ``rows`` with ``concurrency`` connections through the managed endpoint
    (kslab.load.recipe); its summary."""
    from kslab.load.plan import build_plan
    from kslab.load.recipe import load_model

    plan = build_plan(concurrency=concurrency, duration=None, requests=requests, rate=None, profile=None,
                      warmup=None, timeout=None, workers=1)
    result = load_model(ctx.provider, ctx.isvc, plan, protocol=protocol, instances=rows,
                        progress=lambda live: ctx.progress("observe", "load", f"{live.get('requests')} requests"))
    if result.interrupted:
        raise KeyboardInterrupt  # the engine turned Ctrl-C into a partial result: the scenario stops here
    summary = result.to_dict()
    return {k: summary.get(k) for k in ("requests", "ok", "errors", "error_total", "elapsed_s", "latency")}


def timed_call(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000.0
