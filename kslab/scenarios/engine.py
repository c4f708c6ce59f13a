"""Run a scenario: requirements, steps in order, then catch (on failure), finally (reverse), cleanups (reverse).

Whatever happens — a failed step, an unexpected error, Ctrl-C — background traffic is stopped, the finally
steps and the registered cleanups run, and the scenario's entry in record.data["scenarios"] says what
happened (flushed after every step). Ctrl-C ends with verdict "interrupted" and re-raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kslab.errors import KslabError
from kslab.models.entries import ScenarioStep
from kslab.scenarios.context import ScenarioContext, StepCall, StepFailed, now_iso
from kslab.scenarios.requirements import template_scope, unmet
from kslab.scenarios.schema import Scenario, Step
from kslab.scenarios.template import TemplateError, render
from kslab.scenarios.validate import parse_duration
from kslab.session import Session

Observer = Callable[[str, str, str], None]
TIMEOUT_GRACE_S = 5.0


@dataclass
class Hooks:
    """What the engine calls out to; tests swap in fakes."""

    actions: Mapping[str, Callable[[ScenarioContext, StepCall], dict[str, Any]]]
    timelines: Callable[[], Any] | None = None  # a factory of objects with start(ctx) and stop() -> dict
    doctor: Callable[[Session, str], dict[str, Any]] | None = None
    join_background: Callable[[ScenarioContext, bool], None] | None = None


def _doctor(session: Session, name: str) -> dict[str, Any]:
    from kslab.doctor.walk import walk

    checks = walk(session, name)
    broken = next((c for c in checks if not c.ok), None)
    return {"layers": [c.to_dict() for c in checks], "broken": broken.to_dict() if broken else None}


def _timelines() -> Any:
    from kslab.scenarios.timelines import ScenarioTimelines

    return ScenarioTimelines()


def default_hooks(observers: Mapping[str, Any] | None = None) -> Hooks:
    from kslab.scenarios.actions import registry
    from kslab.scenarios.actions_data import join_all

    return Hooks(actions=registry(observers), timelines=_timelines, doctor=_doctor, join_background=join_all)


def new_entry(scenario: Scenario, params: dict[str, Any]) -> dict[str, Any]:
    return {"name": scenario.name, "file": scenario.source, "description": scenario.description,
            "requires": scenario.requires.to_dict(), "verdict": "running", "reason": None, "params": params,
            "started_at": now_iso(), "finished_at": None, "duration_s": None, "steps": [], "assertions": [],
            "timelines": {}, "events": [], "load": [], "diagnosis": None, "cleanups": []}


@dataclass
class _Outcome:
    """How a step ended, filled in as it runs (the typed ScenarioStep is written from it)."""

    result: str = "failed"
    inputs: dict[str, Any] = field(default_factory=dict)
    observations: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class Runner:
    def __init__(self, ctx: ScenarioContext, scenario: Scenario, hooks: Hooks) -> None:
        self.ctx, self.scenario, self.hooks = ctx, scenario, hooks
        self.failure: str | None = None
        self.verdict = "passed"

    # -- one step ------------------------------------------------------------------------------------------
    def scope(self) -> dict[str, Any]:
        return {**template_scope(self.ctx.settings), **self.ctx.params, "saved": self.ctx.saved}

    def step(self, step: Step) -> bool:
        """Run one step into its typed entry (written running first, then as it ended); False if it failed."""
        ctx = self.ctx
        entry = ScenarioStep(name=step.name, action=step.action, phase=step.phase, result="running",
                             started_at=now_iso(), t_s=ctx.elapsed(), inputs={}, observations={})
        index = len(ctx.result["steps"])
        ctx.result["steps"].append(entry.to_dict())
        ctx.record.flush()
        outcome, start = _Outcome(), time.monotonic()
        try:
            self._attempt(step, outcome, start)
        finally:
            entry = replace(entry, result=outcome.result, inputs=outcome.inputs, observations=outcome.observations,
                            error=outcome.error, duration_s=round(time.monotonic() - start, 3),
                            finished_at=now_iso())
            ctx.result["steps"][index] = entry.to_dict()
            if entry.result != "skipped":
                ctx.progress(step.name, "ok" if entry.result == "ok" else "failed",
                             entry.error or f"{entry.duration_s:.1f}s")
            ctx.record.flush()
        return entry.result != "failed"

    def _attempt(self, step: Step, outcome: _Outcome, start: float) -> None:
        """Render the step, call its action and fill ``outcome``; only Ctrl-C propagates."""
        ctx = self.ctx
        try:
            scope = self.scope()
            if str(render(step.when, scope)).lower() in ("false", "0", "no", "none", ""):
                outcome.result = "skipped"
                ctx.progress(step.name, "skip", "when: false")
                return
            timeout = parse_duration(render(step.timeout, scope)) if step.timeout is not None else None
            call = StepCall(step.name, step.action, render(step.value, scope), render(step.extra, scope), timeout)
            outcome.inputs = {step.action: call.value, **call.extra, **({"timeout_s": timeout} if timeout else {})}
            ctx.progress(step.name, step.action, _detail(call.value))
            outcome.observations = self.hooks.actions[step.action](ctx, call)
            if step.save:
                ctx.saved[step.save] = outcome.observations
            took = time.monotonic() - start
            if timeout is not None and took > timeout + TIMEOUT_GRACE_S:
                raise StepFailed(f"took {took:.1f}s, over its timeout of {timeout:g}s", None, outcome.observations)
            outcome.result = "ok"
        except KeyboardInterrupt:
            outcome.result, outcome.error = "interrupted", "interrupted by the user"
            raise
        except StepFailed as exc:
            self._failed(step, outcome, exc.message, exc.hint)
            outcome.observations = exc.observations or outcome.observations
            if step.save:
                ctx.saved[step.save] = outcome.observations
        except KslabError as exc:
            self._failed(step, outcome, exc.message, exc.hint)
        except TemplateError as exc:
            self._failed(step, outcome, f"template: {exc}", None, verdict="error")
        except Exception as exc:  # an unexpected bug must still leave a record and run the cleanup
            self._failed(step, outcome, f"{type(exc).__name__}: {exc}", None, verdict="error")

    def _failed(self, step: Step, outcome: _Outcome, message: str, hint: str | None,
                verdict: str = "failed") -> None:
        outcome.result, outcome.error = "failed", message + (f" (hint: {hint})" if hint else "")
        if self.failure is None:
            self.failure = f"{step.describe()}: {message}"
            self.verdict = verdict

    # -- phases --------------------------------------------------------------------------------------------
    def run(self) -> None:
        interrupted = False
        self._start_timelines()
        try:
            for step in self.scenario.steps:
                if not self.step(step) and not step.continue_on_failure:
                    break
            if self.failure is not None:
                self.ctx.stop.set()
                for step in self.scenario.catch:
                    self.step(step)
                self._diagnose()
        except KeyboardInterrupt:
            interrupted = True
            self.ctx.stop.set()
            self.verdict, self.failure = "interrupted", "interrupted by the user (Ctrl-C)"
        interrupted = self._cleanup(interrupted)
        if interrupted:
            self.verdict, self.failure = "interrupted", "interrupted by the user (Ctrl-C)"
            self._finish()
            raise KeyboardInterrupt
        self._finish()

    def _cleanup(self, interrupted: bool) -> bool:
        """Background traffic, finally steps (reverse), cleanups (reverse), timelines; a second Ctrl-C is noted
        but never skips the rest of the cleanup."""
        ctx = self.ctx
        parts: list[tuple[str, Callable[[], Any]]] = []
        if self.hooks.join_background is not None:
            join = self.hooks.join_background
            parts.append(("background traffic", lambda: join(ctx, interrupted or self.failure is not None)))
        # a failing finally step fails a passing scenario (the lab is left in an unknown state): step() says so
        parts += [(s.name, lambda s=s: self.step(s)) for s in reversed(self.scenario.finally_)]
        parts += [("cleanups", lambda: ctx.result["cleanups"].extend(ctx.run_cleanups())),
                  ("timelines", self._stop_timelines)]
        for what, part in parts:
            try:
                part()
            except KeyboardInterrupt:
                interrupted = True
                ctx.stop.set()
            except Exception as exc:  # one broken part must not keep the others from cleaning up
                ctx.result["cleanups"].append({"what": what, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return interrupted

    def _diagnose(self) -> None:
        """The doctor's layer walk of each InferenceService the scenario applied (the ``name`` parameter when it
        applied none); the first one with a broken layer is the diagnosis, named by ``isvc``."""
        if self.hooks.doctor is None or not self.ctx.provider.has_cluster:
            return
        diagnosis: dict[str, Any] | None = None
        for name in self._applied_isvcs():
            self.ctx.progress("diagnosis", "doctor", name)
            try:
                found = {"isvc": name, **self.hooks.doctor(self.ctx.session, name)}
            except Exception as exc:  # the diagnosis is evidence, never a reason to skip the cleanup
                found = {"error": getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"}
            if diagnosis is None or (found.get("broken") and not diagnosis.get("broken")):
                diagnosis = found
        self.ctx.result["diagnosis"] = diagnosis
        self.ctx.progress("diagnosis", "ok", "")
        self.ctx.record.flush()

    def _applied_isvcs(self) -> list[str]:
        names = [str(item.get("name")) for step in self.ctx.result["steps"] if step.get("action") == "apply"
                 for item in (step.get("observations") or {}).get("applied") or []
                 if isinstance(item, Mapping) and item.get("kind") == "InferenceService"]
        return list(dict.fromkeys(names)) or [self.ctx.isvc]

    def _start_timelines(self) -> None:
        self.timelines = None
        if self.hooks.timelines is None or not self.ctx.provider.has_cluster:
            return
        try:
            self.timelines = self.hooks.timelines()
            self.timelines.start(self.ctx)
        except Exception as exc:  # timelines are evidence: the scenario runs without them
            self.ctx.result["timelines"] = {"error": getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"}
            self.timelines = None

    def _stop_timelines(self) -> None:
        if self.timelines is not None:
            self.ctx.result["timelines"] = self.timelines.stop()

    def _finish(self) -> None:
        result = self.ctx.result
        result["verdict"], result["reason"] = self.verdict, self.failure
        result["finished_at"] = now_iso()
        result["duration_s"] = self.ctx.elapsed()
        self.ctx.record.flush()


def _detail(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items() if not isinstance(v, Mapping | list))[:120]
    return str(value)[:120]


RECORD_RESULT = {"passed": "ok", "failed": "failed", "error": "failed", "skipped": "skipped"}


def run_scenario(session: Session, scenario: Scenario, params: dict[str, Any], observe: Observer | None = None,
                 hooks: Hooks | None = None) -> dict[str, Any]:
    """Run one scenario into the session's record and return its entry (verdict passed/failed/error/skipped).

    Never raises for a failed scenario (the verdict says it); KeyboardInterrupt propagates after cleanup."""
    settings, record = session.settings, session.require_record()
    view = observe or (lambda *_: None)
    result = new_entry(scenario, params)
    record.data.setdefault("scenarios", []).append(result)
    with record.step(f"scenario:{scenario.name}", file=scenario.source, params=params) as summary:
        reason = unmet(scenario.requires, settings, session.provider.has_cluster)
        if reason is not None:
            result.update(verdict="skipped", reason=reason, finished_at=now_iso(), duration_s=0.0)
            view(scenario.name, "skip", reason)
        else:
            ctx = ScenarioContext(session=session, namespace=settings.namespace, isvc=str(params["name"]),
                                  params=params, result=result,
                                  progress=lambda step, state, detail: view(f"{scenario.name}: {step}", state, detail))
            try:
                Runner(ctx, scenario, hooks or default_hooks()).run()
            finally:
                view(scenario.name, "ok" if result["verdict"] == "passed" else
                     ("skip" if result["verdict"] == "skipped" else "failed"), result["reason"] or "passed")
        summary.update(verdict=result["verdict"], reason=result["reason"],
                       _result=RECORD_RESULT.get(result["verdict"], "failed"))
    return result


def run_scenarios(session: Session, names: list[str], observe: Observer | None = None) -> list[dict[str, Any]]:
    """Run the named scenarios (built-in or ./scenarios/ files) one after another with their default
    parameters; a name that does not resolve becomes an "error" entry instead of stopping the others."""
    from kslab.scenarios.catalog import find_scenario
    from kslab.scenarios.loader import resolve_params

    record = session.require_record()
    results = []
    for name in names:
        try:
            scenario = find_scenario(name)
            params = resolve_params(scenario)
        except KslabError as exc:
            entry = {"name": name, "file": None, "verdict": "error", "reason": exc.message, "steps": [],
                     "assertions": [], "started_at": now_iso(), "finished_at": now_iso(), "duration_s": 0.0}
            record.data.setdefault("scenarios", []).append(entry)
            record.flush()
            results.append(entry)
            continue
        results.append(run_scenario(session, scenario, params, observe))
    return results
