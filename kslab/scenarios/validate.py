"""Check a parsed scenario file against kslab/scenarios/schema.py; one clear line per problem.

Errors read `scenarios/my.yaml: step 3 "promote": field "timeout": "abc" is not a duration` and are
UsageErrors (exit 2). Unknown keys get a "did you mean" from the allowed names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from kslab.errors import UsageError
from kslab.scenarios import schema as S
from kslab.scenarios.template import REF, all_references
from kslab.util.durations import duration_seconds

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PARAM = re.compile(r"^[a-z_][a-z0-9_]*$")
_VERSION_SPEC = re.compile(r"^\s*(>=|<=|==|>|<)\s*\d+(\.\d+){0,2}\s*$")
HINT = "the format is described in docs/scenarios.md; check a file with: kslab scenario validate FILE"


class ScenarioFileError(UsageError):
    """A scenario file (or a --set) that does not follow the format."""

    def __init__(self, message: str, hint: str | None = HINT) -> None:
        super().__init__(message, hint)


def did_you_mean(word: str, options: Iterable[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.6)
    return f' (did you mean "{prefix}{close[0]}"?)' if close else ""


def parse_duration(value: Any) -> float | None:
    """Seconds for '90s', '2m', '500ms', '1h' or a positive number; None when it is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    return duration_seconds(str(value))


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and bool(REF.fullmatch(value)) and not value.startswith("{{")


def kind_problem(value: Any, kind: str) -> str | None:
    """Why ``value`` is not of ``kind`` (None when it is). A whole-string `{ref}` passes any scalar kind."""
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    if kind == "any" or (_is_template(value) and kind in ("int", "number", "bool", "duration", "str")):
        return None
    checks = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "duration": parse_duration(value) is not None,
        "mapping": isinstance(value, Mapping),
        "list": isinstance(value, list),
        "null": value is None,
    }
    if checks[kind]:
        return None
    article = {"int": "a whole number", "number": "a number", "bool": "true or false", "str": "a string",
               "duration": "a duration", "mapping": "a mapping", "list": "a list", "null": "empty"}[kind]
    return f"{shown} is not {article}" + (" (like 90s, 2m, 500ms)" if kind == "duration" else "")


class Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str | None, problem: str) -> ScenarioFileError:
        return ScenarioFileError(f"{self.source}: " + (f"{where}: " if where else "") + problem)

    def check_fields(self, data: Mapping[str, Any], fields: Mapping[str, S.Field], where: str | None,
                     prefix: str = "", extra_allowed: Iterable[str] = ()) -> None:
        allowed = [*fields, *extra_allowed]
        for key in data:
            if key not in allowed:
                raise self.fail(where, f'unknown field "{prefix}{key}"{did_you_mean(str(key), allowed, prefix)}')
        for key, spec in fields.items():
            if key not in data:
                if spec.required:
                    raise self.fail(where, f'missing required field "{prefix}{key}"')
                continue
            problem = kind_problem(data[key], spec.kind)
            if problem is None and spec.choices and not _is_template(data[key]) and data[key] not in spec.choices:
                problem = f'"{data[key]}" is not one of {", ".join(spec.choices)}' + did_you_mean(
                    str(data[key]), spec.choices)
            if problem:
                raise self.fail(where, f'field "{prefix}{key}": {problem}')

    def scenario(self, data: Any) -> S.Scenario:
        if not isinstance(data, Mapping):
            raise self.fail(None, "a scenario file is a mapping with name, steps and optional description, requires, "
                                  "params, catch, finally")
        self.check_fields(data, S.TOP_FIELDS, None)
        if not _NAME.match(data["name"]):
            raise self.fail(None, f'field "name": "{data["name"]}" must be lower-case letters, digits and dashes')
        params, specs = self.params(data.get("params") or {})
        requires = self.requires(data.get("requires") or {})
        steps = self.steps(data["steps"], "main", params)
        if not steps:
            raise self.fail(None, 'field "steps": a scenario needs at least one step')
        saved = {s.save for s in steps if s.save}
        catch = self.steps(data.get("catch") or [], "catch", params, saved)
        final = self.steps(data.get("finally") or [], "finally", params, saved)
        return S.Scenario(name=data["name"], description=str(data.get("description") or ""), source=self.source,
                          requires=requires, params=params, steps=tuple(steps), catch=tuple(catch),
                          finally_=tuple(final), param_specs=specs)

    def params(self, data: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Defaults and specs (kslab.scenarios.params): a plain default, or {default, type, min, max, choices}."""
        from kslab.scenarios.params import ParamProblem, declare

        if not isinstance(data, Mapping):
            raise self.fail(None, 'field "params": must be a mapping of parameter names to defaults')
        params: dict[str, Any] = {}
        specs: dict[str, Any] = {}
        for key, value in data.items():
            if not isinstance(key, str) or not _PARAM.match(key) or key in (*S.BUILTIN_NAMES, "saved"):
                raise self.fail(None, f'field "params": "{key}" is not a usable parameter name (lower_case, not one '
                                      f"of {', '.join((*S.BUILTIN_NAMES, 'saved'))})")
            try:
                params[key], specs[key] = declare(value)
            except ParamProblem as exc:
                raise self.fail(None, f'field "params.{key}": {exc}') from None
        params.setdefault("name", S.DEFAULT_ISVC)
        return params, specs

    def requires(self, data: Any) -> S.Requires:
        if not isinstance(data, Mapping):
            raise self.fail(None, 'field "requires": must be a mapping like {cluster: true, mode: knative}')
        self.check_fields(data, S.REQUIRES_FIELDS, None, "requires.")
        for part in str(data.get("kserve") or "").split(",") if data.get("kserve") else []:
            if not _VERSION_SPEC.match(part):
                raise self.fail(None, f'field "requires.kserve": "{part.strip()}" is not a version condition like '
                                      '">=0.13" (combine with commas: ">=0.13,<0.20")')
        return S.Requires(cluster=bool(data.get("cluster", False)), mode=data.get("mode"), kserve=data.get("kserve"),
                          because=data.get("because"))

    def steps(self, items: list[Any], phase: str, params: Mapping[str, Any],
              saved_before: set[str] | None = None) -> list[S.Step]:
        out: list[S.Step] = []
        saved = set(saved_before or ())
        background: set[str] = set()
        for index, raw in enumerate(items, start=1):
            step = self.step(raw, phase, index, params, saved, background)
            if any(s.name == step.name for s in out):
                raise self.fail(step.describe(), f'another {phase} step is already named "{step.name}"')
            if step.save:
                saved.add(step.save)
            if step.action == "traffic" and isinstance(step.value, Mapping) and step.value.get("background"):
                background.add(step.name)
            out.append(step)
        return out

    def step(self, raw: Any, phase: str, index: int, params: Mapping[str, Any], saved: set[str],
             background: set[str]) -> S.Step:
        label = f"{'' if phase == 'main' else phase + ' '}step {index}"
        if not isinstance(raw, Mapping):
            raise self.fail(label, f"a step is a mapping with name and one action ({', '.join(S.ACTIONS)})")
        name = raw.get("name")
        where = f'{label} "{name}"' if isinstance(name, str) else label
        actions = [key for key in raw if key in S.ACTIONS]
        if len(actions) > 1:
            raise self.fail(where, f"has {len(actions)} actions ({', '.join(actions)}); a step has exactly one")
        if not actions:
            unknown = [str(k) for k in raw if k not in S.STEP_FIELDS]
            hint = did_you_mean(unknown[0], S.ACTIONS) if unknown else ""
            what = f' ("{unknown[0]}" is not an action{hint})' if unknown else ""
            raise self.fail(where, f"has no action{what}; one of: {', '.join(S.ACTIONS)}")
        action = actions[0]
        spec = S.ACTIONS[action]
        self.check_fields(raw, {**S.STEP_FIELDS, **spec.siblings}, where, extra_allowed=[action])
        value = raw[action]
        problems = [p for kind in spec.value if (p := kind_problem(value, kind)) is not None]
        if len(problems) == len(spec.value):
            raise self.fail(where, f'field "{action}": {problems[0]}')
        if isinstance(value, Mapping):
            self.check_fields(value, spec.fields, where, f"{action}.")
            if spec.one_of and sum(1 for key in spec.one_of if key in value) != 1:
                raise self.fail(where, f'field "{action}": give exactly one of {", ".join(spec.one_of)}')
        self._action_rules(action, value, where, saved, background)
        if action == "observe" and value == "canary-gates":
            self._gates(raw.get("with"), params, where)
        for ref in all_references([value, {k: raw[k] for k in raw if k != "name"}]):
            self._check_ref(ref, params, saved, where)
        if raw.get("save") is not None and not _PARAM.match(str(raw["save"])):
            raise self.fail(where, f'field "save": "{raw["save"]}" must be a lower_case name')
        timeout = raw.get("timeout")
        return S.Step(name=name, action=action, value=value, extra={k: raw[k] for k in spec.siblings if k in raw},
                      phase=phase, index=index, timeout=timeout if _is_template(timeout) else parse_duration(timeout),
                      save=raw.get("save"), continue_on_failure=bool(raw.get("continue_on_failure", False)),
                      when=raw.get("when", True))

    def _action_rules(self, action: str, value: Any, where: str, saved: set[str], background: set[str]) -> None:
        if action == "observe" and value not in S.OBSERVER_KINDS:
            raise self.fail(where, f'field "observe": "{value}" is not an observer; one of '
                                   f"{', '.join(S.OBSERVER_KINDS)}{did_you_mean(str(value), S.OBSERVER_KINDS)}")
        if action == "wait_traffic" and value not in background:
            raise self.fail(where, f'field "wait_traffic": no earlier traffic step "{value}" with background: true'
                                   + did_you_mean(str(value), background))
        if action == "traffic" and isinstance(value, Mapping) and "requests" in value and "duration" in value:
            raise self.fail(where, 'field "traffic": requests and duration exclude each other')
        if action == "assert":
            if not value:
                raise self.fail(where, 'field "assert": give at least one check')
            for position, item in enumerate(value):
                self._assertion(item, f'assert[{position}].', where, saved)

    def _gates(self, options: Any, params: Mapping[str, Any], where: str) -> None:
        """A canary-gates step's gates, rendered with the parameters' defaults, must parse as gates (a gate that
        names a setting or a saved value is checked when the step runs)."""
        from kslab.scenarios.gates import parse_gates
        from kslab.scenarios.template import TemplateError, render

        gates = options.get("gates") if isinstance(options, Mapping) else None
        try:
            parse_gates(render(gates, params))
        except TemplateError:
            return
        except UsageError as exc:
            raise self.fail(where, f'field "with.gates": {exc.message}') from None

    def _assertion(self, item: Any, prefix: str, where: str, saved: set[str]) -> None:
        if not isinstance(item, Mapping):
            raise self.fail(where, f'field "{prefix[:-1]}": a check is a mapping like {{value: saved.x, equals: 1}}')
        self.check_fields(item, S.ASSERT_FIELDS, where, prefix)
        used = [c for c in S.COMPARATORS if c in item]
        if len(used) != 1:
            raise self.fail(where, f'field "{prefix[:-1]}": give exactly one of {", ".join(S.COMPARATORS)}')
        if not str(item["value"]).startswith("saved."):
            raise self.fail(where, f'field "{prefix}value": "{item["value"]}" must be a saved path like '
                                   "saved.split.within_tolerance")
        key = str(item["value"]).split(".")[1]
        if key not in saved:
            raise self.fail(where, f'field "{prefix}value": no earlier step saves "{key}"' + did_you_mean(key, saved))
        if "between" in item and (len(item["between"]) != 2 or any(
                kind_problem(v, "number") for v in item["between"])):
            raise self.fail(where, f'field "{prefix}between": needs two numbers [low, high]')
        if "tolerance" in item and "approx" not in item:
            raise self.fail(where, f'field "{prefix}tolerance": only goes with approx')

    def _check_ref(self, ref: str, params: Mapping[str, Any], saved: set[str], where: str) -> None:
        head, _, rest = ref.partition(".")
        if head == "saved":
            key = rest.split(".")[0]
            if key not in saved:
                raise self.fail(where, f'"{{{ref}}}": no earlier step saves "{key}"' + did_you_mean(key, saved))
            return
        known = [*params, *S.BUILTIN_NAMES]
        if head not in known or rest:
            raise self.fail(where, f'"{{{ref}}}" is not a parameter' + did_you_mean(head, known) +
                            f"; parameters: {', '.join(sorted(known))}")


def validate(data: Any, source: str) -> S.Scenario:
    """The typed Scenario for a parsed file, or ScenarioFileError (exit 2) naming file, step and field."""
    return Validator(source).scenario(data)
