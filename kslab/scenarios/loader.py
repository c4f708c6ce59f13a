"""Read a scenario file and resolve its parameters (defaults from the file, `--set k=v` on top)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kslab.scenarios.schema import Scenario
from kslab.scenarios.validate import ScenarioFileError, did_you_mean, validate


def shown_path(path: Path) -> str:
    """The path as the user should read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_scenario(path: Path, shown: str | None = None) -> Scenario:
    """Parse and validate one file; ScenarioFileError (exit 2) for a missing, unreadable or invalid file."""
    import yaml

    label = shown or shown_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(f"{label}: cannot read the file ({exc.strerror or exc})",
                                "kslab scenario list shows the scenarios kslab finds") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioFileError(f"{label}: not valid YAML: {where}{problem}") from None
    return validate(data, label)


def params_hint(scenario: Scenario) -> str:
    return f"the parameters with their types and ranges: kslab scenario validate {scenario.source} -o json"


def _coerce(key: str, text: str, scenario: Scenario) -> Any:
    """``text`` read as the parameter's declared (or default's) type and checked against its range and choices."""
    from kslab.scenarios.params import ParamProblem, ParamSpec, check, declare, parse

    spec = scenario.param_specs.get(key)
    if not isinstance(spec, ParamSpec):
        spec = declare(scenario.params[key])[1]  # a Scenario built in code: the default's type
    try:
        return check(parse(text, spec), spec)
    except ParamProblem as exc:
        raise ScenarioFileError(f"--set {key}={text}: {exc} ({key} is {spec.describe()}, default "
                                f"{scenario.params[key]!r})", params_hint(scenario)) from None


def resolve_params(scenario: Scenario, sets: Iterable[str] = ()) -> dict[str, Any]:
    """The scenario's parameters with each `k=v` applied (typed like the default); unknown keys are errors."""
    params = dict(scenario.params)
    for item in sets:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioFileError(f"--set {item!r} is not KEY=VALUE", "example: --set canary_percent=20")
        if key not in scenario.params:
            known = ", ".join(sorted(scenario.params))
            raise ScenarioFileError(f'--set {key}: scenario "{scenario.name}" has no parameter "{key}"'
                                    f"{did_you_mean(key, scenario.params)}; parameters: {known}",
                                    params_hint(scenario))
        params[key] = _coerce(key, text, scenario)
    return params
