"""``latency-layers``: the same predict request measured at each layer of the serving path, in one run.

Layers (see docs/upstream-sources.md), each reached through its own port-forward and asked ``requests`` times in
interleaved rounds (so drift hits every layer alike), medians reported:

- ``gateway``: the Istio ingress gateway with the InferenceService's Host header (Knative mode);
- ``service``: Knative: the revision's private Service ``<revision>-private`` port 80 → queue-proxy 8012
  (``kubectl port-forward`` cannot attach to the selector-less public revision Service); Standard:
  ``svc/<isvc>-predictor`` port 80 → 8080;
- ``pod``: one predictor pod's ``kserve-container`` port 8080, bypassing queue-proxy;
- ``server_predict``: the model server's own ``request_predict_seconds`` (Δsum / Δcount on that pod).

``added_ms`` is the difference between neighbours, named by what lies between them:

- ``gateway`` (gateway - service): the Istio gateway, and in Knative mode the activator too while the revision's
  ServerlessService is in proxy mode (the public Service then points at the activator);
- ``queue_proxy`` (Knative; service - pod): queue-proxy, reached through the ``<revision>-private`` Service whose
  endpoints are the revision's pods (knative/serving@knative-v1.21.1
  pkg/reconciler/serverlessservice/resources/services.go), so the activator is never on this path;
  ``service`` in Standard mode: the predictor Service's hop alone (no queue-proxy there);
- ``runtime`` (pod - server_predict): the model server's HTTP handling on top of its predict time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from kslab.errors import CheckFailed
from kslab.inference.client import InferenceClient
from kslab.models.endpoint import Endpoint
from kslab.models.entries import LatencyLayers
from kslab.portforward.endpoints import recorded_mode
from kslab.portforward.forward import ForwardTarget, PortForward
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers import podmetrics
from kslab.scenarios.observers.common import endpoint, instances, latest_revision, number, read_isvc
from kslab.scenarios.observers.stats import counter_delta, median_ms

WARMUP = 2


def _ready_pod(ctx: ScenarioContext, revision: str | None) -> dict[str, Any]:
    pods = [p for p in podmetrics.predictor_pods(ctx.kube(), ctx.namespace, ctx.isvc)
            if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
            and any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (p.get("status") or {}).get("conditions") or [])]
    if revision:
        pods = [p for p in pods if podmetrics.pod_group(p, ctx.isvc) == revision] or pods
    if not pods:
        raise CheckFailed(f"no Ready predictor pod of {ctx.isvc} to measure (minReplicas 0 and scaled down?)",
                          f"kubectl get pods -n {ctx.namespace} -l serving.kserve.io/inferenceservice={ctx.isvc}")
    return sorted(pods, key=lambda p: p["metadata"]["name"])[0]


@contextlib.contextmanager
def _forward(ctx: ScenarioContext, target: ForwardTarget) -> Iterator[Endpoint]:
    timeout = float(ctx.settings.timeouts.request)
    with PortForward(target, access=ctx.access(), ready_timeout=timeout) as forward:
        yield Endpoint(base_url=forward.url, model_name=ctx.isvc, via="port-forward")


def _service_target(ctx: ScenarioContext, knative: bool, revision: str | None) -> ForwardTarget:
    if knative and revision:
        return ForwardTarget(ctx.namespace, f"svc/{revision}-private", 80)
    return ForwardTarget(ctx.namespace, f"svc/{ctx.isvc}-predictor", 80)


def observe_latency_layers(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    """The medians as a :class:`LatencyLayers` record entry, returned as its dict (the observer contract)."""
    rounds = int(number(options, "requests", 20, 1))
    rows = instances(options)
    isvc = read_isvc(ctx)
    mode = recorded_mode(isvc) or ("knative" if latest_revision(isvc) else "standard")
    knative = mode == "knative"
    revision = latest_revision(isvc) if knative else None
    pod = _ready_pod(ctx, revision)
    pod_name = pod["metadata"]["name"]
    kube = ctx.kube()
    with contextlib.ExitStack() as stack:
        layers: dict[str, Endpoint] = {}
        if knative:
            layers["gateway"] = stack.enter_context(endpoint(ctx))
        layers["service"] = stack.enter_context(_forward(ctx, _service_target(ctx, knative, revision)))
        layers["pod"] = stack.enter_context(_forward(ctx, ForwardTarget(ctx.namespace, f"pod/{pod_name}", 8080)))
        clients = {name: stack.enter_context(InferenceClient(ep, attempts=1)) for name, ep in layers.items()}
        for client in clients.values():
            for _ in range(WARMUP):
                client.predict(rows)
        before = podmetrics.scrape(kube, ctx.namespace, pod_name, ctx.isvc)
        ctx.mark(f"latency-layers: {rounds} rounds over {', '.join(layers)}")
        samples: dict[str, list[float]] = {name: [] for name in layers}
        failures: dict[str, int] = {name: 0 for name in layers}
        for _ in range(rounds):
            if ctx.stop.is_set():
                break
            for name, client in clients.items():
                result = client.predict(rows)
                if result.ok:
                    samples[name].append(result.latency_ms)
                else:
                    failures[name] += 1
        after = podmetrics.scrape(kube, ctx.namespace, pod_name, ctx.isvc)
    served = counter_delta(before["count"], after["count"])
    server_ms = round(1000 * counter_delta(before["sum"], after["sum"]) / served, 3) if served else None
    medians = {f"{name}_ms": median_ms(values) for name, values in samples.items()}
    measured = {"gateway_ms": medians.get("gateway_ms"), "service_ms": medians.get("service_ms"),
                "pod_ms": medians.get("pod_ms"), "server_predict_ms": server_ms}
    if any(failures.values()):
        raise CheckFailed(f"latency-layers: requests failed at {failures}", "probe each layer by hand; 'kslab doctor'")
    return LatencyLayers(
        layers=measured, added_ms=added_parts(measured, knative), pod=pod_name, revision=revision, mode=mode,
        requests_per_layer=rounds, server_requests_counted=served,
        samples_ms={name: tuple(round(v, 3) for v in values) for name, values in samples.items()}).to_dict()


def added_parts(m: dict[str, float | None], knative: bool) -> dict[str, float | None]:
    """What each hop adds (see the module doc): gateway, queue_proxy (Knative) or service (Standard), runtime."""
    def diff(a: str, b: str) -> float | None:
        return round(m[a] - m[b], 3) if m.get(a) is not None and m.get(b) is not None else None  # type: ignore[operator]
    return {"gateway": diff("gateway_ms", "service_ms"),
            "queue_proxy" if knative else "service": diff("service_ms", "pod_ms"),
            "runtime": diff("pod_ms", "server_predict_ms")}
