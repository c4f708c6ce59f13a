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
- cold-start: name, timeout (for zero pods, 180s), request_timeout (300s), instances -> first_request_ms,
  parts{scheduled_ms, containers_started_ms, ready_ms, response_ms}, pod, status_timestamps
- latency-layers: requests (20 per layer), instances -> layers{gateway_ms, service_ms, pod_ms,
  server_predict_ms}, added_ms{gateway, queue_proxy (Knative) | service (Standard), runtime}
- explain: instances, timeout -> status, ok, body_excerpt, explanation, latency_ms
- canary-analysis: requests (60 per revision), split_requests (60), concurrency, holdout (v1) -> roles{stable,
  canary}, revisions{rev: requests, errors, error_rate, latency_ms, p50_ms, p99_ms, labelled, correct,
  accuracy}, agreement{rows, agree, rate}, split{...traffic-split keys, error_rate, accuracy}
- canary-gates: analysis (saved key), gates [...], final, stage -> status, decision, gates[{name, status,
  expected, observed, bound, reason, evidence}]; a rollback decision fails the step

Mode comparison (serverless and raw InferenceServices side by side; options serverless/raw name them, default
``<name>-serverless`` / ``<name>-raw``; each module's docstring has the details):

- mode-ready: timeout -> sides{side: isvc, ready, ready_s, deployment_mode, stuck_layer, stuck, fix}, all_ready
- footprint: label, wait_zero, timeout -> sides{side: objects, object_total, pods, ready_pods, containers,
  container_requests, requests_per_pod, requests_total}, reached_zero, waited_s
- mode-rounds: levels, rounds, requests, warmup, in_cluster, in_cluster_levels -> cells, summary, skipped
- rollout: model_version / storage_uri, concurrency, lead, settle, timeout -> sides{side: rollout_s, errors,
  requests, p50_ms, p99_ms, series}
- scale-reaction: concurrency, window -> sides{side: before, after, added, reaction_s, hpa_scaling}
- mode-compare: the save names of the steps above -> sides, rows, reading, levels, footprint, cold_start,
  rollout, not_ready (fails naming a side that never became Ready)
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
    "canary-analysis": ("analysis", "observe_canary_analysis"),
    "canary-gates": ("gating", "observe_canary_gates"),
    "mode-ready": ("modeready", "observe_mode_ready"),
    "footprint": ("footprint", "observe_footprint"),
    "mode-rounds": ("moderounds", "observe_mode_rounds"),
    "rollout": ("rollout", "observe_rollout"),
    "scale-reaction": ("scalereaction", "observe_scale_reaction"),
    "mode-compare": ("modecompare", "observe_mode_compare"),
}


def _lazy(module: str, function: str) -> Observer:
    def observer(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
        found = getattr(importlib.import_module(f"kslab.scenarios.observers.{module}"), function)
        return found(ctx, dict(options or {}))
    observer.__name__ = function
    observer.__doc__ = f"kslab.scenarios.observers.{module}.{function}"
    return observer


OBSERVERS: dict[str, Observer] = {kind: _lazy(module, fn) for kind, (module, fn) in _WHERE.items()}
