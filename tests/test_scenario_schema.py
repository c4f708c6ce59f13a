"""Scenario file validation: one-line errors naming file, step and field; --set; the built-ins are valid."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from kslab.exitcodes import ExitCode
from kslab.paths import scenarios_dir
from kslab.scenarios.loader import read_scenario, resolve_params
from kslab.scenarios.schema import OBSERVER_KINDS
from kslab.scenarios.template import TemplateError, render
from kslab.scenarios.validate import ScenarioFileError, validate

BASE: dict[str, Any] = {
    "name": "my",
    "params": {"canary_percent": 10, "requests": 200, "strict": True},
    "steps": [
        {"name": "deploy", "apply": {"isvc": "{name}", "model_version": "v1"}},
        {"name": "ready", "wait": {"resource": "isvc", "name": "{name}", "condition": "Ready", "generation": True},
         "timeout": "90s"},
        {"name": "promote", "patch": {"resource": "isvc", "name": "{name}",
                                      "merge": {"spec": {"predictor": {"canaryTrafficPercent": 100}}}},
         "timeout": "2m"},
        {"name": "split", "observe": "traffic-split", "with": {"requests": "{requests}"}, "save": "split"},
        {"name": "check", "assert": [{"value": "saved.split.within_tolerance", "is_true": True}]},
    ],
    "finally": [{"name": "cleanup", "delete": {"resource": "isvc", "name": "{name}", "missing_ok": True}}],
}


def error_for(mutate: Any) -> str:
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(ScenarioFileError) as caught:
        validate(data, "scenarios/my.yaml")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "\n" not in caught.value.message
    return caught.value.message


def test_a_valid_file_becomes_typed_steps() -> None:
    scenario = validate(copy.deepcopy(BASE), "scenarios/my.yaml")
    assert [s.action for s in scenario.steps] == ["apply", "wait", "patch", "observe", "assert"]
    assert scenario.steps[1].timeout == 90.0 and scenario.steps[2].timeout == 120.0
    assert scenario.steps[3].extra == {"with": {"requests": "{requests}"}} and scenario.steps[3].save == "split"
    assert scenario.finally_[0].phase == "finally" and scenario.finally_[0].describe() == 'finally step 1 "cleanup"'
    assert scenario.params["name"] == "sklearn-iris"  # the InferenceService under test defaults to the lab's


def test_bad_duration_names_file_step_and_field() -> None:
    message = error_for(lambda d: d["steps"][2].update(timeout="abc"))
    assert message.startswith('scenarios/my.yaml: step 3 "promote": field "timeout": "abc" is not a duration')


def test_unknown_action_is_suggested() -> None:
    def mutate(d: dict) -> None:
        d["steps"][1] = {"name": "ready", "wiat": {"resource": "isvc", "name": "x", "condition": "Ready"}}
    assert error_for(mutate) == ('scenarios/my.yaml: step 2 "ready": has no action ("wiat" is not an action '
                                 '(did you mean "wait"?)); one of: apply, patch, annotate, delete, wait, traffic, '
                                 'wait_traffic, probe, observe, assert, sleep, mark, collect')


def test_two_actions_in_one_step() -> None:
    message = error_for(lambda d: d["steps"][0].update(mark="x"))
    assert message == 'scenarios/my.yaml: step 1 "deploy": has 2 actions (apply, mark); a step has exactly one'


def test_unknown_field_with_did_you_mean() -> None:
    message = error_for(lambda d: d["steps"][1].update(timout="90s"))
    assert message == 'scenarios/my.yaml: step 2 "ready": unknown field "timout" (did you mean "timeout"?)'
    message = error_for(lambda d: d["steps"][1]["wait"].update(generations=True))
    assert message == 'scenarios/my.yaml: step 2 "ready": unknown field "wait.generations" (did you mean ' \
                      '"wait.generation"?)'


def test_wrong_types() -> None:
    assert error_for(lambda d: d["steps"][1]["wait"].update(generation="yes")) == \
        'scenarios/my.yaml: step 2 "ready": field "wait.generation": "yes" is not true or false'
    assert error_for(lambda d: d["steps"][0].update(apply="sklearn-iris")) == \
        'scenarios/my.yaml: step 1 "deploy": field "apply": "sklearn-iris" is not a mapping'
    assert error_for(lambda d: d["steps"][0]["apply"].update(canary_percent="ten")) == \
        'scenarios/my.yaml: step 1 "deploy": field "apply.canary_percent": "ten" is not a whole number'
    assert error_for(lambda d: d["steps"][1]["wait"].update(resource="isvcs")) == \
        'scenarios/my.yaml: step 2 "ready": field "wait.resource": "isvcs" is not one of isvc, ksvc, revision, ' \
        'route, configuration, deployment, service, hpa, pod, ingress, configmap, podautoscaler (did you mean "isvc"?)'


def test_missing_required_fields() -> None:
    assert error_for(lambda d: d["steps"][2]["patch"].pop("merge")) == \
        'scenarios/my.yaml: step 3 "promote": missing required field "patch.merge"'
    assert error_for(lambda d: d["steps"][0].pop("name")) == 'scenarios/my.yaml: step 1: missing required field "name"'
    assert error_for(lambda d: d.pop("steps")) == 'scenarios/my.yaml: missing required field "steps"'
    assert error_for(lambda d: d["steps"].append({"name": "nap", "sleep": "5s"})) == \
        'scenarios/my.yaml: step 6 "nap": missing required field "why"'


def test_references_must_name_params_or_earlier_saves() -> None:
    assert error_for(lambda d: d["steps"][3]["with"].update(requests="{request}")) == \
        'scenarios/my.yaml: step 4 "split": "{request}" is not a parameter (did you mean "requests"?); parameters: ' \
        'canary_percent, explainer_image, kserve_version, mode, name, namespace, provider, requests, ' \
        'standard_annotation, strict'
    assert error_for(lambda d: d["steps"][4]["assert"][0].update(value="saved.splits.ok")) == \
        'scenarios/my.yaml: step 5 "check": field "assert[0].value": no earlier step saves "splits" ' \
        '(did you mean "split"?)'
    assert error_for(lambda d: d["steps"][0]["apply"].update(isvc="{saved.split.x}")).endswith(
        'step 1 "deploy": "{saved.split.x}": no earlier step saves "split"')


def test_action_specific_rules() -> None:
    assert error_for(lambda d: d["steps"].__setitem__(3, {"name": "split", "observe": "trafic-split"})) == \
        'scenarios/my.yaml: step 4 "split": field "observe": "trafic-split" is not an observer; one of ' \
        f'{", ".join(OBSERVER_KINDS)} (did you mean "traffic-split"?)'
    assert error_for(lambda d: d["steps"].append({"name": "join", "wait_traffic": "load"})) == \
        'scenarios/my.yaml: step 6 "join": field "wait_traffic": no earlier traffic step "load" with background: true'
    assert error_for(lambda d: d["steps"][4]["assert"][0].update(equals=True)).endswith(
        'field "assert[0]": give exactly one of equals, at_least, at_most, between, approx, is_true, is_false')
    assert error_for(lambda d: d["steps"][0]["apply"].update(manifest={})).endswith(
        'field "apply": give exactly one of isvc, manifest, file')
    assert error_for(lambda d: d["steps"].append(dict(d["steps"][0]))).endswith(
        'step 6 "deploy": another main step is already named "deploy"')


def test_top_level_problems() -> None:
    assert error_for(lambda d: d.update(name="My Scenario")) == \
        'scenarios/my.yaml: field "name": "My Scenario" must be lower-case letters, digits and dashes'
    assert error_for(lambda d: d.update(requires={"kserve": "0.13+"})) == \
        'scenarios/my.yaml: field "requires.kserve": "0.13+" is not a version condition like ">=0.13" ' \
        '(combine with commas: ">=0.13,<0.20")'
    assert error_for(lambda d: d.update(requires={"mode": "raw"})) == \
        'scenarios/my.yaml: field "requires.mode": "raw" is not one of knative, standard'
    assert error_for(lambda d: d.update(stesp=[])) == 'scenarios/my.yaml: unknown field "stesp" (did you mean "steps"?)'


def test_yaml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\nsteps:\n  - name: a\n    mark: [unclosed\n")
    with pytest.raises(ScenarioFileError) as caught:
        read_scenario(path, "scenarios/broken.yaml")
    assert caught.value.message.startswith("scenarios/broken.yaml: not valid YAML: line ")


def test_set_overrides_typed_and_rejects_unknown_keys() -> None:
    scenario = validate(copy.deepcopy(BASE), "scenarios/my.yaml")
    params = resolve_params(scenario, ["canary_percent=20", "strict=false", "name=other"])
    assert params["canary_percent"] == 20 and params["strict"] is False and params["name"] == "other"
    with pytest.raises(ScenarioFileError) as caught:
        resolve_params(scenario, ["canary_percnt=20"])
    assert caught.value.message.startswith('--set canary_percnt: scenario "my" has no parameter "canary_percnt" '
                                           '(did you mean "canary_percent"?)')
    with pytest.raises(ScenarioFileError, match="expected a whole number"):
        resolve_params(scenario, ["requests=many"])
    with pytest.raises(ScenarioFileError, match="is not KEY=VALUE"):
        resolve_params(scenario, ["requests"])


def test_declared_params_check_type_range_and_choices_on_set() -> None:
    data = copy.deepcopy(BASE)
    data["params"] = {"canary_percent": {"default": 10, "type": "int", "min": 0, "max": 100},
                      "wait": {"default": "90s", "type": "duration", "min": 1},
                      "ratio": {"default": 0.5, "type": "number", "min": 0, "max": 1},
                      "source": {"default": "catalog", "choices": ["catalog", "pvc"]}, "requests": 200}
    scenario = validate(data, "scenarios/my.yaml")
    assert scenario.params["canary_percent"] == 10 and scenario.params["wait"] == "90s"
    assert resolve_params(scenario, ["canary_percent=100", "ratio=1", "wait=2m", "source=pvc"])["ratio"] == 1.0
    for item, message in [
        ("canary_percent=101", "--set canary_percent=101: 101 is above the maximum 100 (canary_percent is int "
                               "0..100, default 10)"),
        ("canary_percent=-1", "-1 is below the minimum 0"),
        ("canary_percent=1.5", "expected a whole number, got '1.5'"),
        ("ratio=nan", "expected a finite number"), ("ratio=2", "2.0 is above the maximum 1"),
        ("wait=0.5s", "0.5s is below the minimum 1 s"), ("wait=soon", "expected a duration"),
        ("source=s3", "'s3' is not one of catalog, pvc"),
        ("requests=many", "expected a whole number, got 'many'"),  # a plain default keeps its type
    ]:
        with pytest.raises(ScenarioFileError) as caught:
            resolve_params(scenario, [item])
        assert message in caught.value.message, (item, caught.value.message)
        assert caught.value.exit_code == ExitCode.USAGE
        assert "kslab scenario validate scenarios/my.yaml -o json" in (caught.value.hint or "")


@pytest.mark.parametrize(("declared", "message"), [
    ({"default": 101, "type": "int", "max": 100}, 'field "params.pct": "default": 101 is above the maximum 100'),
    ({"default": 1, "type": "percent"}, 'type "percent" is not one of int, number, bool, string, duration'),
    ({"default": 1, "min": 5, "max": 2}, "min 5 is above max 2"),
    ({"type": "int"}, 'a declaration needs a "default"'),
    ({"default": 1, "maximum": 2}, 'unknown key "maximum"'),
    ({"default": 1, "min": "low"}, '"min" must be a number'),
    ({"default": "x", "type": "int"}, "expected a whole number, got 'x'"),
    ([1, 2], "is not a string, number or boolean"),
])
def test_bad_param_declarations_name_the_param(declared: Any, message: str) -> None:
    text = error_for(lambda d: d["params"].update(pct=declared))
    assert message in text and text.startswith("scenarios/my.yaml: "), text


def test_builtin_numeric_params_declare_their_ranges() -> None:
    canary = read_scenario(scenarios_dir() / "canary.yaml")
    assert canary.param_specs["canary_percent"].describe() == "int 0..100"
    with pytest.raises(ScenarioFileError, match="101 is above the maximum 100"):
        resolve_params(canary, ["canary_percent=101"])
    for path in sorted(scenarios_dir().glob("*.yaml")):
        scenario = read_scenario(path)
        for key, value in scenario.params.items():
            if (isinstance(value, int) and not isinstance(value, bool)) or key.endswith(("_timeout", "_window")):
                spec = scenario.param_specs[key]
                assert spec.min is not None or spec.max is not None or path.name == "canary-analysis.yaml", \
                    (path.name, key)


def test_templates_substitute_only_names_and_paths() -> None:
    scope = {"name": "sklearn-iris", "pct": 10, "saved": {"split": {"revisions": {"r-00002": {"p": 9.5}}}}}
    assert render("{pct}", scope) == 10  # a whole-string reference keeps its type
    assert render("{name}-predictor-00002", scope) == "sklearn-iris-predictor-00002"
    assert render({"k": ["{saved.split.revisions.r-00002.p}"]}, scope) == {"k": [9.5]}
    assert render("{{literal}} {pct}", scope) == "{literal} 10"
    assert render("{__import__('os')}", scope) == "{__import__('os')}"  # not a reference: left alone
    with pytest.raises(TemplateError, match=r"saved\.split\.revisions has no 'r-00003'"):
        render("{saved.split.revisions.r-00003.p}", scope)


@pytest.mark.parametrize("path", sorted(scenarios_dir().glob("*.yaml")), ids=lambda p: p.name)
def test_every_builtin_scenario_is_valid(path: Path) -> None:
    scenario = read_scenario(path)
    assert scenario.name == path.stem
    assert scenario.steps
