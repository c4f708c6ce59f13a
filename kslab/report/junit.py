"""JUnit XML of a run, in the shape GitLab and the common GitHub JUnit actions read.

<testsuites> holds one <testsuite> per scenario (a <testcase> per assertion), one for the smoke checks and one
for the run's other steps. Failures carry a one-line message and the details (expected/observed, diagnosis)
as text; a step or scenario that never finished (the run was killed) is an <error>, a skipped one <skipped>.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from kslab.report.summary import SMOKE_PREFIX, is_incomplete
from kslab.report.text import clean

MESSAGE_MAX = 500
SCENARIO_STEP_PREFIX = "scenario:"


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


def _scenario_suite(scenario: dict[str, Any]) -> Suite:
    name = str(scenario.get("name", "?"))
    verdict = str(scenario.get("verdict") or "unknown")
    duration = scenario.get("duration_s")
    suite = Suite(f"scenario {name}", timestamp=scenario.get("started_at"),
                  time=float(duration) if isinstance(duration, int | float) else None)
    diagnosis = json.dumps(scenario.get("diagnosis"), indent=2, default=str) if scenario.get("diagnosis") else ""
    assertions = [a for a in scenario.get("assertions") or [] if isinstance(a, dict)]
    if verdict == "skipped":
        suite.cases.append(Case(name, f"scenario.{name}", outcome="skipped", message=str(scenario.get("reason") or "")))
        return suite
    for item in assertions:
        case = Case(str(item.get("name", "?")), f"scenario.{name}")
        if not item.get("ok"):
            case.outcome = "failure"
            case.message = str(item.get("message") or f"{item.get('name')}: expected {item.get('expected')}, "
                                                      f"observed {item.get('observed')}")
            case.details = _detail(step=item.get("step"), expected=item.get("expected"),
                                   observed=item.get("observed"), tolerance=item.get("tolerance"))
            case.output = diagnosis
        suite.cases.append(case)
    if not suite.cases or (verdict != "passed" and not any(c.outcome != "passed" for c in suite.cases)):
        # the verdict itself is a case when no assertion says it: a scenario without assertions (smoke), a
        # skipped one (with its reason), or a failure before any assertion ran
        outcome = {"passed": "passed", "skipped": "skipped", "failed": "failure"}.get(verdict, "error")
        unfinished = [s.get("name") for s in scenario.get("steps") or [] if isinstance(s, dict)
                      and s.get("result") in ("failed", "running", "interrupted")]
        message = "" if outcome == "passed" else \
            f"scenario {verdict}: {scenario.get('reason') or 'no reason recorded'}"
        suite.cases.append(Case(f"{name} verdict", f"scenario.{name}", scenario.get("duration_s"), outcome,
                                message, _detail(steps_not_ok=unfinished or None) if message else "",
                                diagnosis if message else ""))
    return suite


def _smoke_case(step: dict[str, Any]) -> Case:
    obs = step.get("observations") if isinstance(step.get("observations"), dict) else {}
    name = str(obs.get("name") or str(step.get("name", ""))[len(SMOKE_PREFIX):])
    case = Case(name, "smoke", step.get("duration_s"), _step_outcome(str(step.get("result"))))
    if case.outcome == "passed" and obs.get("ok") is False:
        case.outcome = "failure"
    if case.outcome == "failure":
        case.message = f"expected {clean(obs.get('expected'))}, got {clean(obs.get('actual'))}"
        case.details = _detail(expected=obs.get("expected"), actual=obs.get("actual"),
                               status_code=obs.get("status_code"), error=step.get("error"))
    elif case.outcome != "passed":
        case.message = str(step.get("error") or obs.get("reason") or f"check {step.get('result')}")
    return case


def _step_case(step: dict[str, Any], command: str) -> Case:
    result = str(step.get("result", "unknown"))
    obs = step.get("observations") if isinstance(step.get("observations"), dict) else {}
    case = Case(str(step.get("name", "?")), f"kslab.{command}", step.get("duration_s"), _step_outcome(result))
    if case.outcome == "skipped":
        case.message = str(obs.get("reason") or "skipped")
    elif case.outcome == "failure":
        case.message = str(step.get("error") or "step failed")
        case.details = _detail(inputs=step.get("inputs"))
    elif case.outcome == "error":
        case.message = str(step.get("error") or (f"step never finished (result {result}): the run was killed"
                                                 if result == "running" else f"step {result}"))
    return case


def suites(record: dict[str, Any]) -> list[Suite]:
    command = str(record.get("command") or "run")
    scenarios = [s for s in record.get("scenarios") or [] if isinstance(s, dict)]
    out = [_scenario_suite(s) for s in scenarios]
    # a scenario's wrapping step ("scenario:<name>") is its suite already: not a second test case
    wrappers = {f"{SCENARIO_STEP_PREFIX}{s.get('name')}" for s in scenarios}
    steps = [s for s in record.get("steps") or [] if isinstance(s, dict) and s.get("name") not in wrappers]
    smoke = [s for s in steps if str(s.get("name", "")).startswith(SMOKE_PREFIX)]
    if smoke:
        out.append(Suite("smoke", [_smoke_case(s) for s in smoke], smoke[0].get("started_at")))
    main = Suite(f"kslab {command}", [_step_case(s, command) for s in steps if s not in smoke],
                 record.get("started_at"))
    if is_incomplete(record):
        main.cases.append(Case("run completed", f"kslab.{command}", outcome="error",
                               message=f"INCOMPLETE: the run ended with result {record.get('result')!r} and "
                                       f"{'no finish time' if not record.get('finished_at') else 'was interrupted'}"))
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


def render_junit(record: dict[str, Any]) -> str:
    all_suites = suites(record)
    root = ET.Element("testsuites", name=clean(f"kslab {record.get('run_id', '')}"),
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
