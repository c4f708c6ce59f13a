"""The fixed set of scenario actions: name -> function(ctx, call) -> observations (dict).

Kubernetes actions live in actions_kube.py, data-plane actions in actions_data.py; this module has the
small ones (observe, assert, sleep, mark) and the registry the engine dispatches on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kslab.errors import UsageError
from kslab.scenarios import actions_data, actions_kube
from kslab.scenarios.assertions import evaluate
from kslab.scenarios.context import ScenarioContext, StepCall

Action = Callable[[ScenarioContext, StepCall], dict[str, Any]]
Observer = Callable[[ScenarioContext, dict[str, Any]], dict[str, Any]]


def load_observers() -> Mapping[str, Observer]:
    """The observer registry (kslab/scenarios/observers/), imported on first use."""
    from kslab.scenarios.observers import OBSERVERS

    return OBSERVERS


def make_observe(observers: Mapping[str, Observer] | None = None) -> Action:
    """The observe action over ``observers`` (default: the real registry)."""

    def observe(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
        registry = observers if observers is not None else load_observers()
        kind = str(call.value)
        if kind not in registry:
            raise UsageError(f"observer {kind!r} is not available; known: {', '.join(sorted(registry))}")
        options = dict(call.extra.get("with") or {})
        if call.timeout is not None:
            options.setdefault("timeout", call.timeout)
        ctx.progress(call.name, "observe", kind)
        result = registry[kind](ctx, options)
        return dict(result)

    return observe


def assert_(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    return evaluate(ctx.saved, list(call.value), call.name, ctx.result.setdefault("assertions", []))


def sleep(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    from kslab.scenarios.validate import parse_duration

    seconds = parse_duration(call.value) or 0.0
    ctx.progress(call.name, "sleep", f"{seconds:g}s: {call.extra.get('why')}")
    interrupted = ctx.stop.wait(seconds)
    return {"slept_s": seconds, "why": call.extra.get("why"), "cut_short": interrupted}


def mark(ctx: ScenarioContext, call: StepCall) -> dict[str, Any]:
    ctx.mark(str(call.value))
    return {"label": str(call.value), "t_s": ctx.elapsed()}


def registry(observers: Mapping[str, Observer] | None = None) -> dict[str, Action]:
    return {
        "apply": actions_kube.apply, "patch": actions_kube.patch, "annotate": actions_kube.annotate,
        "delete": actions_kube.delete, "wait": actions_kube.wait, "collect": actions_kube.collect,
        "traffic": actions_data.traffic, "wait_traffic": actions_data.wait_traffic, "probe": actions_data.probe,
        "observe": make_observe(observers), "assert": assert_, "sleep": sleep, "mark": mark,
    }
