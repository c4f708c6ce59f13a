"""Scenario actions on the data plane: traffic (kslab load, foreground or background), wait_traffic, probe.

Every request goes to the managed endpoint (the provider's endpoint(): the local runtime, or a port-forward
to the Istio gateway / the raw predictor Service). A background run holds its port-forward open until it
is joined, stopped on Ctrl-C, or stopped by the scenario's cleanup, so no forward outlives the scenario.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from typing import Any

from kslab.errors import CheckFailed
from kslab.load.recipe import drive, load_model, model_target
from kslab.scenarios.context import ScenarioContext, StepCall, StepFailed

SUMMARY_KEYS = ("target", "mode", "connections", "elapsed_s", "interrupted", "unfinished", "requests", "ok",
                "errors", "error_total", "throughput_rps", "latency")
JOIN_GRACE_S = 30.0


def _plan(spec: dict[str, Any]) -> Any:
    from kslab.load.plan import build_plan

    def seconds(value: Any) -> str | None:
        return None if value is None else (f"{value}s" if isinstance(value, int | float) else str(value))

    requests = spec.get("requests")
    duration = seconds(spec.get("duration"))
    if requests is None and duration is None:
        requests = 100
    return build_plan(concurrency=int(spec["concurrency"]) if spec.get("concurrency") is not None else None,
                      duration=duration, requests=int(requests) if requests is not None else None,
                      rate=float(spec["rate"]) if spec.get("rate") is not None else None, profile=None, warmup=None,
                      timeout=seconds(spec.get("timeout")), workers=1)


def _finish(ctx: ScenarioContext, name: str, result: dict[str, Any], started: float) -> dict[str, Any]:
    """Put the full result in result["load"] (scenario time base) and return the summary for the step."""
    finished = ctx.elapsed()
    ctx.mark(f"traffic {name} end")
    entry = {**result, "step": name, "t_start_s": started, "t_end_s": finished,
             "events": [{"t_s": started, "label": f"traffic {name} start"},
                        {"t_s": finished, "label": f"traffic {name} end"}]}
    ctx.result.setdefault("load", []).append(entry)
    summary = {k: result.get(k) for k in SUMMARY_KEYS if k in result}
    if not result.get("ok") and not result.get("interrupted"):
        errors = ", ".join(f"{k}: {v}" for k, v in (result.get("errors") or {}).items()) or "none answered"
        raise StepFailed(f"traffic {name}: no request succeeded out of {result.get('requests', 0)} ({errors})",
                         "probe the endpoint first (probe step) or run 'kslab doctor'", summary)
    return summary


class BackgroundTraffic:
    """A load run in a thread, with the endpoint (port-forward) it needs kept open until it ends."""

    def __init__(self, ctx: ScenarioContext, name: str, spec: dict[str, Any]) -> None:
        self.ctx, self.name = ctx, name
        self.plan = _plan(spec)
        self.stack = contextlib.ExitStack()
        protocol = str(spec.get("protocol") or "v1")
        self.target = self.stack.enter_context(model_target(ctx.provider, ctx.isvc, protocol))
        self.halt = threading.Event()
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.started = ctx.elapsed()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"kslab-scenario-traffic-{name}")

    def start(self) -> BackgroundTraffic:
        self.ctx.mark(f"traffic {self.name} start")
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = drive(self.target, self.plan,
                                stop=lambda: self.halt.is_set() or self.ctx.stop.is_set()).to_dict()
        except BaseException as exc:  # reported by join()
            self.error = exc

    def join(self, timeout: float | None) -> dict[str, Any]:
        """Wait for the run to end (stopping it at ``timeout``), close the endpoint, record the result."""
        self.thread.join(timeout)
        self.stop()
        if self.error is not None:
            raise CheckFailed(f"background traffic {self.name} failed: {type(self.error).__name__}: {self.error}")
        return _finish(self.ctx, self.name, self.result or {"requests": 0, "ok": 0, "interrupted": True},
                       self.started)

    def stop(self) -> None:
        """Stop the load (it ends within ~50 ms) and the port-forward; safe to call twice."""
        self.halt.set()
        self.thread.join(JOIN_GRACE_S)
        self.stack.close()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()


def traffic(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    spec = dict(call.value)
    if spec.get("background"):
        job = BackgroundTraffic(ctx, call.name, spec).start()
        ctx.background[call.name] = job
        ctx.add_cleanup(job.stop, f"stop background traffic {call.name}")
        return {"background": True, "plan": job.plan.to_dict()}
    plan = _plan(spec)
    started = ctx.elapsed()
    ctx.mark(f"traffic {call.name} start")
    result = load_model(ctx.provider, ctx.isvc, plan, protocol=str(spec.get("protocol") or "v1"),
                        progress=lambda live: ctx.progress(call.name, "load", f"{live.get('requests')} requests, "
                                                                              f"{live.get('rps')} req/s")).to_dict()
    summary = _finish(ctx, call.name, result, started)
    if result.get("interrupted"):
        raise KeyboardInterrupt  # run_load turned Ctrl-C into a partial result: the scenario stops here
    return summary


def wait_traffic(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    job = ctx.background.pop(str(call.value), None)
    if job is None:
        raise CheckFailed(f"no background traffic step {call.value!r} is running")
    return job.join(call.timeout)


def join_all(ctx: ScenarioContext, interrupted: bool) -> None:
    """At the end of a scenario: join (or, after a failure or Ctrl-C, stop) background runs not yet joined."""
    for name in list(ctx.background):
        job = ctx.background.pop(name)
        wait = 0.0 if interrupted else (None if job.plan.steps[0].duration_s is not None else JOIN_GRACE_S)
        with contextlib.suppress(CheckFailed):  # a partial or failed run is still recorded under "load"
            job.join(wait)


def probe(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    """The smoke checks (kslab/inference/smoke.py) against the managed endpoint, or a tagged host (host:)."""
    from kslab.inference.smoke import BATCH_SIZE, smoke_endpoint
    from kslab.models.catalog import catalog_model

    spec = dict(call.value or {})
    with ctx.provider.endpoint(ctx.isvc) as endpoint:
        if spec.get("host"):
            endpoint = dataclasses.replace(endpoint, host=str(spec["host"]))
        report = smoke_endpoint(endpoint, catalog_model(ctx.isvc), timeout_s=float(ctx.settings.timeouts.request),
                                batch_size=int(spec.get("batch_size") or BATCH_SIZE),
                                on_check=lambda c: ctx.progress(call.name, "ok" if c.ok else "failed", c.name))
    out = report.to_dict()
    if not report.ok:
        failed = "; ".join(f"{c.name} (expected {c.expected}, got {c.actual})" for c in report.failed[:3])
        raise StepFailed(f"probe via {report.endpoint}: {len(report.failed)} of {len(report.checks)} smoke checks "
                         f"failed: {failed}", "kslab doctor " + ctx.isvc, out)
    return out
