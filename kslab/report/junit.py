"""JUnit XML of a run, in the shape GitLab and the common GitHub JUnit actions read.

<testsuites> holds one <testsuite> per scenario (a <testcase> per assertion), one for the smoke checks and one
for the run's other steps. Failures carry a one-line message and the details (expected/observed, diagnosis)
as text; a step or scenario that never finished (the run was killed) is an <error>, a skipped one <skipped>.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kslab.models.entries import Assertion, ScenarioEntry, Step
from kslab.report.record import RunView, SmokeRun, read_run
from kslab.report.summary import is_incomplete
from kslab.report.text import clean

MESSAGE_MAX = 500
SCENARIO_STEP_PREFIX = "scenario:"
VERDICT_OUTCOMES = {"passed": "passed", "skipped": "skipped", "failed": "failure"}


@dataclass
class Case:
    name: str
    classname: str
    time: float | None = None
    outcome: str = "passed"  # passed | failure | error | skipped
    message: str = ""
    details: str = ""
    output: str = ""


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)
    timestamp: str | None = None
    time: float | None = None  # the scenario's own duration; else the sum of its cases'


def _detail(**parts: Any) -> str:
    return "\n".join(f"{k}: {clean(v)}" for k, v in parts.items() if v not in (None, ""))


def _step_outcome(result: str) -> str:
    return {"ok": "passed", "failed": "failure", "skipped": "skipped"}.get(result, "error")


def _assertion_case(item: Assertion, scenario: str, diagnosis: str) -> Case:
    case = Case(item.name, f"scenario.{scenario}")
    if not item.ok:
        case.outcome = "failure"
        case.message = item.message or f"{item.name}: expected {item.expected}, observed {item.observed}"
        case.details = _detail(step=item.step, expected=item.expected, observed=item.observed,
                               tolerance=item.tolerance)
        case.output = diagnosis
    return case


def _verdict_case(entry: ScenarioEntry, diagnosis: str) -> Case:
    """The verdict as a case of its own: a scenario without assertions (smoke), or a failure no assertion says."""
    verdict = entry.verdict_or_unknown
    outcome = VERDICT_OUTCOMES.get(verdict, "error")
    if outcome == "passed":
        return Case(f"{entry.name} verdict", f"scenario.{entry.name}", entry.duration_s, outcome)
    unfinished = entry.steps_not_ok()
    return Case(f"{entry.name} verdict", f"scenario.{entry.name}", entry.duration_s, outcome,
                f"scenario {verdict}: {entry.reason or 'no reason recorded'}",
                _detail(steps_not_ok=unfinished or None), diagnosis)


def _scenario_suite(entry: ScenarioEntry) -> Suite:
    suite = Suite(f"scenario {entry.name}", timestamp=entry.started_at,
                  time=float(entry.duration_s) if entry.duration_s is not None else None)
    if entry.verdict == "skipped":
        suite.cases.append(Case(entry.name, f"scenario.{entry.name}", outcome="skipped", message=entry.reason or ""))
        return suite
    diagnosis = json.dumps(entry.diagnosis, indent=2, default=str) if entry.diagnosis else ""
    suite.cases += [_assertion_case(item, entry.name, diagnosis) for item in entry.assertions or ()]
    said = any(c.outcome != "passed" for c in suite.cases)
    if not suite.cases or (entry.verdict_or_unknown != "passed" and not said):
        suite.cases.append(_verdict_case(entry, diagnosis))
    return suite


def _smoke_case(smoke: SmokeRun) -> Case:
    step, check = smoke.step, smoke.check
    case = Case(smoke.name, "smoke", step.duration_s, _step_outcome(str(step.result)))
    if case.outcome == "passed" and check is not None and not check.ok:
        case.outcome = "failure"
    if case.outcome == "failure":
        expected, actual = (check.expected, check.actual) if check else (None, None)
        case.message = f"expected {clean(expected)}, got {clean(actual)}"
        case.details = _detail(expected=expected, actual=actual, status_code=check.status_code if check else None,
                               error=step.error)
    elif case.outcome != "passed":
        case.message = str(step.error or (step.observations or {}).get("reason") or f"check {step.result}")
    return case


def _step_case(step: Step, command: str) -> Case:
    result = step.result or "unknown"
    case = Case(step.name, f"kslab.{command}", step.duration_s, _step_outcome(result))
    if case.outcome == "skipped":
        case.message = str((step.observations or {}).get("reason") or "skipped")
    elif case.outcome == "failure":
        case.message = step.error or "step failed"
        case.details = _detail(inputs=step.inputs)
    elif case.outcome == "error":
        case.message = step.error or (f"step never finished (result {result}): the run was killed"
                                      if result == "running" else f"step {result}")
    return case


def _incomplete_case(run: RunView, command: str) -> Case:
    ending = "no finish time" if not run.header("finished_at") else "was interrupted"
    return Case("run completed", f"kslab.{command}", outcome="error",
                message=f"INCOMPLETE: the run ended with result {run.header('result')!r} and {ending}")


def suites(record: Mapping[str, Any] | RunView) -> list[Suite]:
    run = read_run(record)
    command = str(run.header("command") or "run")
    out = [_scenario_suite(s.entry) for s in run.scenarios]
    # a scenario's wrapping step ("scenario:<name>") is its suite already: not a second test case
    wrappers = {f"{SCENARIO_STEP_PREFIX}{s.entry.name}" for s in run.scenarios}
    smoke = [s for s in run.smoke if s.step.name not in wrappers]
    if smoke:
        out.append(Suite("smoke", [_smoke_case(s) for s in smoke], smoke[0].step.started_at))
    main = Suite(f"kslab {command}", [_step_case(s, command) for s in run.steps
                                     if s.name not in wrappers and not s.is_smoke], run.header("started_at"))
    if is_incomplete(run):
        main.cases.append(_incomplete_case(run, command))
    if main.cases:
        out.append(main)
    return out


def _counts(cases: list[Case]) -> dict[str, str]:
    return {"tests": str(len(cases)), "failures": str(sum(c.outcome == "failure" for c in cases)),
            "errors": str(sum(c.outcome == "error" for c in cases)),
            "skipped": str(sum(c.outcome == "skipped" for c in cases)),
            "time": f"{sum(c.time or 0.0 for c in cases):.3f}"}


def _case_element(parent: ET.Element, case: Case) -> None:
    element = ET.SubElement(parent, "testcase", name=clean(case.name), classname=clean(case.classname),
                            time=f"{case.time or 0.0:.3f}")
    if case.outcome != "passed":
        child = ET.SubElement(element, case.outcome, message=clean(case.message)[:MESSAGE_MAX])
        if case.outcome != "skipped":
            child.set("type", case.outcome)
        if case.details or case.outcome != "skipped":
            child.text = clean(case.details or case.message)
    if case.output:
        ET.SubElement(element, "system-out").text = clean(case.output)


def render_junit(record: Mapping[str, Any] | RunView) -> str:
    run = read_run(record)
    all_suites = suites(run)
    root = ET.Element("testsuites", name=clean(f"kslab {run.header('run_id') or ''}"),
                      **_counts([c for s in all_suites for c in s.cases]))
    for suite in all_suites:
        element = ET.SubElement(root, "testsuite", name=clean(suite.name), **_counts(suite.cases))
        if suite.time is not None:
            element.set("time", f"{suite.time:.3f}")
        if suite.timestamp:
            element.set("timestamp", clean(str(suite.timestamp)).rstrip("Z")[:19])
        for case in suite.cases:
            _case_element(element, case)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
