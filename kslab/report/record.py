"""A run record read once into typed entries (kslab/models/entries) for every renderer: its steps, smoke
checks, load results and scenarios, each with the measurements its observe steps made.

The record's header (run id, times, settings, cluster and stack facts) stays a dict: every key of it may be
missing. An entry whose shape is wrong stops the report with one line naming the field
(``run 20261124T010000Z-lab-0000: steps[12].observations.series[0].requests: expected an integer, …``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kslab.models.entries import (
    SMOKE_PREFIX,
    EntryError,
    LoadResult,
    Observation,
    ScenarioEntry,
    SmokeCheck,
    Step,
    observation,
)

SCHEMA_HINT = "the record does not have the shape of kslab.run/v1 (manifests/schema/run-v1.schema.json)"


@dataclass(frozen=True)
class LoadRun:
    """A load result and where it came from: ``key`` is ``load`` or ``<scenario>/<traffic step>``."""

    key: str
    scenario: str | None
    result: LoadResult


@dataclass(frozen=True)
class SmokeRun:
    """A ``smoke: <check>`` step and its check (None when the check never ran: skipped, killed)."""

    step: Step
    check: SmokeCheck | None

    @property
    def name(self) -> str:
        return self.check.name if self.check and self.check.name else self.step.name[len(SMOKE_PREFIX):]

    @property
    def ok(self) -> bool:
        return self.step.result == "ok" and (self.check is None or self.check.ok)


@dataclass(frozen=True)
class ScenarioRun:
    entry: ScenarioEntry
    measurements: tuple[tuple[str, Observation], ...]  # (step name, what it measured), in step order


@dataclass(frozen=True)
class RunView:
    record: Mapping[str, Any]
    steps: tuple[Step, ...]
    smoke: tuple[SmokeRun, ...]
    loads: tuple[LoadRun, ...]
    scenarios: tuple[ScenarioRun, ...]

    def header(self, key: str) -> Any:
        return self.record.get(key)

    def section(self, key: str) -> dict[str, Any]:
        """A header object (settings, tool, cluster, stack, environment, diagnosis); {} when absent or not one."""
        value = self.record.get(key)
        return dict(value) if isinstance(value, Mapping) else {}


def _list(record: Mapping[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise EntryError(f"{key}: expected a list, got {type(value).__name__}")
    return value


def _steps(record: Mapping[str, Any]) -> tuple[Step, ...]:
    return tuple(Step.from_dict(step, f"steps[{i}]") for i, step in enumerate(_list(record, "steps")))


def _smoke(steps: tuple[Step, ...]) -> tuple[SmokeRun, ...]:
    return tuple(SmokeRun(step, SmokeCheck.from_dict(step.observations, f"steps[{i}].observations")
                          if step.holds_smoke_check else None)
                 for i, step in enumerate(steps) if step.is_smoke)


def read_scenario(data: Any, index: int) -> ScenarioRun:
    where = f"scenarios[{index}]"
    entry = ScenarioEntry.from_dict(data, where)
    found = ((step.name, observation(step, f"{where}.steps[{i}]")) for i, step in enumerate(entry.steps or ()))
    return ScenarioRun(entry, tuple((name, obs) for name, obs in found if obs is not None))


def _loads(steps: tuple[Step, ...], scenarios: tuple[ScenarioRun, ...]) -> tuple[LoadRun, ...]:
    """Top-level load steps first, then each scenario's traffic, in record order."""
    found = [LoadRun(step.name, None, LoadResult.from_dict(step.observations or {}, f"steps[{i}].observations"))
             for i, step in enumerate(steps) if step.holds_load_result]
    for scenario in scenarios:
        for index, load in enumerate(scenario.entry.load or ()):
            if load.measured:
                found.append(LoadRun(f"{scenario.entry.name}/{load.step or f'load-{index + 1}'}",
                                     scenario.entry.name, load))
    return tuple(found)


def read_run(record: Mapping[str, Any] | RunView) -> RunView:
    """``record`` as typed entries; EntryError (one line, naming the run and the field) when one is malformed."""
    if isinstance(record, RunView):
        return record
    try:
        steps = _steps(record)
        scenarios = tuple(read_scenario(s, i) for i, s in enumerate(_list(record, "scenarios")))
        return RunView(record, steps, _smoke(steps), _loads(steps, scenarios), scenarios)
    except EntryError as exc:
        raise EntryError(f"run {record.get('run_id')}: {exc.message}", SCHEMA_HINT) from None
