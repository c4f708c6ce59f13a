"""What the mode-compare observers share: the two InferenceServices side by side, a context per side, which
side is Ready, its live predictor pods, and a load run against one side's managed endpoint.

The sides are ``serverless`` (Knative: KServe 0.15 ``Serverless``, 0.16+ ``Knative``) and ``raw`` (KServe 0.15
``RawDeployment``, 0.16+ ``Standard``); options ``serverless`` / ``raw`` name their InferenceServices (default
``<name>-serverless`` / ``<name>-raw``) and ``model`` the catalog model they serve (default the ``name`` param).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kslab.kube import resources as R
from kslab.scenarios.context import ScenarioContext

Obj = dict[str, Any]
SIDES = ("serverless", "raw")
POLL_S = 0.1


def side_names(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, str]:
    """{"serverless": isvc name, "raw": isvc name}."""
    return {side: str(options.get(side) or f"{ctx.isvc}-{side}") for side in SIDES}


def model_of(ctx: ScenarioContext, options: dict[str, Any]) -> str:
    return str(options.get("model") or ctx.params.get("name") or ctx.isvc)


def for_isvc(ctx: ScenarioContext, name: str) -> ScenarioContext:
    """The same scenario context (record, saved values, stop event, cleanups) aimed at InferenceService ``name``."""
    return dataclasses.replace(ctx, isvc=name)


def isvc_outcome(ctx: ScenarioContext, name: str) -> tuple[str | None, Obj | None]:
    """("ready" | "failed" | None while it is on its way, the object); None, None when it does not exist."""
    from kslab.deploy.timeline import outcome

    found = ctx.kube().find(R.INFERENCE_SERVICE, name, ctx.namespace)
    return (outcome(found) if found is not None else None), found


def ready_sides(ctx: ScenarioContext, options: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The sides whose InferenceService is Ready now ({side: name}) and the others ({side: why not})."""
    ready, skipped = {}, {}
    for side, name in side_names(ctx, options).items():
        state, found = isvc_outcome(ctx, name)
        if state == "ready":
            ready[side] = name
        else:
            skipped[side] = f"InferenceService {name} is " + ("missing" if found is None else "not Ready")
    return ready, skipped


def _predictor_pods(name: str) -> str:
    return f"serving.kserve.io/inferenceservice={name},component=predictor"


def _alive(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]


def live_pods(ctx: ScenarioContext, name: str) -> list[Obj]:
    """The predictor pods of InferenceService ``name`` that are not being deleted."""
    pods, _ = ctx.kube().list(R.POD, ctx.namespace, label_selector=_predictor_pods(name))
    return _alive(pods)


def wait_pods(ctx: ScenarioContext, name: str, check: Any, timeout: float, what: str) -> bool:
    """Follow ``name``'s live predictor pods (one list + watch, kslab.kube.wait) until ``check(pods)`` holds
    (True) or ``timeout`` passes (False)."""
    from kslab.errors import WaitTimeout
    from kslab.kube.wait import wait_for_list

    try:
        wait_for_list(ctx.kube(), R.POD, ctx.namespace, lambda pods: bool(check(_alive(pods))),
                      label_selector=_predictor_pods(name), timeout=timeout, what=what)
    except WaitTimeout:
        return False
    return True


def is_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def ready_count(ctx: ScenarioContext, name: str) -> int:
    return sum(1 for p in live_pods(ctx, name) if is_ready(p))


def wait_until(ctx: ScenarioContext, check: Any, timeout: float) -> bool:
    """Poll ``check()`` every 0.1 s until it is true (True), ``timeout`` passes or the scenario stops (False)."""
    end = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= end or ctx.stop.wait(POLL_S):
            return False


def request_body(ctx: ScenarioContext, options: dict[str, Any], protocol: str = "v1") -> bytes:
    from kslab.load.recipe import request_body as body

    return body(model_of(ctx, options), protocol)


@contextmanager
def side_target(ctx: ScenarioContext, name: str, body: bytes, protocol: str = "v1") -> Iterator[Any]:
    """The side as users reach it, through the Istio ingress gateway with the host of its status.url (Knative:
    the route to the revision via activator/queue-proxy; Standard: KServe's Ingress to the predictor Service), as a
    load Target; the port-forward to the gateway is held open, so its start is not measured, and a rollout that
    replaces the side's pods does not cut it (a forward to the predictor Service pins one pod)."""
    import urllib.parse

    from kslab.load.request import endpoint_target
    from kslab.models.endpoint import Endpoint
    from kslab.portforward.endpoints import GATEWAY
    from kslab.portforward.forward import PortForward

    isvc = ctx.kube().get(R.INFERENCE_SERVICE, name, ctx.namespace)
    host = urllib.parse.urlsplit(str((isvc.get("status") or {}).get("url") or "")).hostname
    with PortForward(GATEWAY, access=ctx.access(), ready_timeout=float(ctx.settings.timeouts.request)) as forward:
        found = Endpoint(base_url=forward.url, model_name=name, host=host, via="port-forward to the gateway")
        yield endpoint_target(found, protocol, body)


def plan(requests: int | None, concurrency: int, duration: str | None = None) -> Any:
    from kslab.load.plan import build_plan

    return build_plan(concurrency=concurrency, duration=duration, requests=requests, rate=None, profile=None,
                      warmup=None, timeout=None, workers=1)


class BackgroundLoad:
    """Load at ``concurrency`` connections in a thread until stopped or ``limit_s`` (its per-second series is a
    timeline of what happened meanwhile)."""

    def __init__(self, target: Any, concurrency: int, limit_s: float) -> None:
        from kslab.load.recipe import drive

        self.halt = threading.Event()
        self.result: dict[str, Any] = {}
        self.started = time.monotonic()
        job = plan(None, concurrency, f"{max(int(limit_s), 1)}s")
        self.thread = threading.Thread(target=lambda: self.result.update(
            drive(target, job, stop=self.halt.is_set).to_dict()), daemon=True, name="kslab-mode-compare-load")
        self.thread.start()

    def since(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def stop(self) -> dict[str, Any]:
        self.halt.set()
        self.thread.join(30)
        return self.result


def load_figures(result: dict[str, Any]) -> dict[str, Any]:
    """The numbers a comparison keeps of one load run (a LoadResult dict, or a merged in-cluster result)."""
    latency = result.get("latency") or {}
    return {"requests": result.get("requests"), "ok": result.get("ok"), "errors": result.get("error_total") or 0,
            "throughput_rps": result.get("throughput_rps"), "p50_ms": latency.get("p50_ms"),
            "p99_ms": latency.get("p99_ms"), "mean_ms": latency.get("mean_ms"), "max_ms": latency.get("max_ms")}
