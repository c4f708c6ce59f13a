"""Scenario observers: ``OBSERVERS[kind](ctx, with_options) -> dict`` (the engine's ``observe`` action).

Each kind lives in its own module, imported on first use (they pull in the kube client and the load
engine, which ``kslab --help`` must not pay for). Options (``with:``), then the main result keys:

- traffic-split: requests (200), concurrency (4), protocol (v1), instances, z (3.29), or
  baseline: <saved key> (send nothing) -> revisions{rev: requests, observed_percent,
  configured_percent, tolerance_points}, total, configured, latest_revision, tolerance_points,
  max_deviation_points, within_tolerance, snapshot, sent
- replicas: settle_at_most: N, timeout -> total_ready, total_desired, by_revision, max_seen,
  min_seen, hpa, hpa_scaling, settled
- resources: expect_present / expect_absent: [[apiVersion, kind, name]] -> present, absent, ok, problems
- isvc: name, missing_ok -> exists, mode, knative, standard, ready, conditions, reasons, url,
  deployment_mode, latest_ready_revision, latest_created_revision, traffic
- cold-start: timeout (for zero pods, 180s), request_timeout (300s), instances -> first_request_ms,
  parts{scheduled_ms, containers_started_ms, ready_ms, response_ms}, pod, status_timestamps
- latency-layers: requests (20 per layer), instances -> layers{gateway_ms, service_ms, pod_ms,
  server_predict_ms}, added_ms{gateway, queue_proxy (Knative) | service (Standard), runtime}
- explain: instances, timeout -> status, ok, body_excerpt, explanation, latency_ms
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kslab.scenarios.context import ScenarioContext

Observer = Callable[["ScenarioContext", dict[str, Any]], dict[str, Any]]

_WHERE: dict[str, tuple[str, str]] = {
    "traffic-split": ("split", "observe_traffic_split"),
    "replicas": ("replicas", "observe_replicas"),
    "resources": ("inventory", "observe_resources"),
    "isvc": ("inventory", "observe_isvc"),
    "cold-start": ("coldstart", "observe_cold_start"),
    "latency-layers": ("latency", "observe_latency_layers"),
    "explain": ("explain", "observe_explain"),
}


def _lazy(module: str, function: str) -> Observer:
    def observer(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
        found = getattr(importlib.import_module(f"kslab.scenarios.observers.{module}"), function)
        return found(ctx, dict(options or {}))
    observer.__name__ = function
    observer.__doc__ = f"kslab.scenarios.observers.{module}.{function}"
    return observer


OBSERVERS: dict[str, Observer] = {kind: _lazy(module, fn) for kind, (module, fn) in _WHERE.items()}
