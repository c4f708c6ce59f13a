"""Typed record entries (kslab/models/entries): real records read back key for key, and a wrong field is an
error that names it."""

from __future__ import annotations

import json

import pytest

from kslab.models.entries import (
    ColdStart,
    EntryError,
    LatencyLayers,
    LoadResult,
    ScenarioEntry,
    ScenarioStep,
    SmokeCheck,
    Step,
    TrafficSplit,
    observation,
)
from tests.report_support import load_of, read, real_lab_run, real_load_run, with_scenarios


def _same_json(a: object, b: object) -> bool:
    return json.dumps(a) == json.dumps(b)  # same keys, values and key order


@pytest.fixture(scope="module")
def lab_record(tmp_path_factory) -> dict:
    return with_scenarios(read(real_lab_run(tmp_path_factory)))


def test_real_steps_and_scenarios_round_trip_key_for_key(lab_record):
    for index, step in enumerate(lab_record["steps"]):
        assert _same_json(Step.from_dict(step, f"steps[{index}]").to_dict(), step)
    for scenario in lab_record["scenarios"]:
        assert _same_json(ScenarioEntry.from_dict(scenario).to_dict(), scenario)


def test_a_real_load_result_and_smoke_check_round_trip(lab_record, tmp_path_factory):
    for record in (lab_record, read(real_load_run(tmp_path_factory))):
        load = load_of(record)
        parsed = LoadResult.from_dict(load)
        assert parsed.latency is not None and parsed.series and _same_json(parsed.to_dict(), load)
    smoke = [s for s in lab_record["steps"] if s["name"].startswith("smoke: ")]
    assert smoke
    for step in smoke:
        assert _same_json(SmokeCheck.from_dict(step["observations"]).to_dict(), step["observations"])


def test_an_entry_built_by_code_writes_its_fields_in_order_without_unset_optional_keys():
    check = SmokeCheck("v1 model ready", True, {"ready": True}, {"ready": True}, 1.5)
    assert list(check.to_dict()) == ["name", "ok", "expected", "actual", "latency_ms", "status_code"]
    assert "steps" not in LoadResult(mode="closed").to_dict() and "steps" in LoadResult(steps=()).to_dict()
    assert list(Step("cluster", result="ok").to_dict()) == ["name", "inputs", "started_at", "finished_at",
                                                            "duration_s", "result", "observations"]


@pytest.mark.parametrize(("entry", "data", "message"), [
    (Step, {"result": "ok"}, "steps[2].name: missing"),
    (Step, {"name": 3}, "steps[2].name: expected a string, got int 3"),
    (Step, {"name": "x", "duration_s": "slow"}, "steps[2].duration_s: expected a number or null, got str"),
    (LoadResult, {"series": [{"t": 0, "requests": "many"}]}, "steps[2].series[0].requests: expected an integer"),
    (LoadResult, {"latency": {"p99_ms": True}}, "steps[2].latency.p99_ms: expected a number or null, got bool"),
    (LoadResult, {"steps": [{"requests": 3}]}, "steps[2].steps[0].level: missing"),
    (ScenarioEntry, "not a scenario", "steps[2]: expected an object, got str 'not a scenario'"),
    (ScenarioEntry, {"name": "c", "assertions": [{"name": "a", "ok": "yes"}]},
     "steps[2].assertions[0].ok: expected true or false, got str 'yes'"),
    (ScenarioEntry, {"name": "c", "timelines": {"replicas": [{"t_s": 1, "name": "r", "ready": 1.5}]}},
     "steps[2].timelines.replicas[0].ready: expected an integer or null, got float 1.5"),
])
def test_a_wrong_or_missing_field_is_an_error_naming_it(entry, data, message):
    with pytest.raises(EntryError) as caught:
        entry.from_dict(data, "steps[2]")
    assert caught.value.message.startswith(message), caught.value.message


def test_an_observe_step_is_read_as_its_observers_type():
    split = {"revisions": {"r1": {"requests": 10, "observed_percent": 100.0, "configured_percent": 100}},
             "total": 10, "tolerance_points": 0.0, "within_tolerance": True}
    step = ScenarioStep.from_dict({"name": "s", "action": "observe", "inputs": {"observe": "traffic-split"},
                                   "result": "ok", "observations": split})
    found = observation(step)
    assert isinstance(found, TrafficSplit) and found.revisions["r1"].observed_percent == 100.0
    assert _same_json(found.to_dict(), split)
    wrong = ScenarioStep.from_dict({"name": "s", "action": "observe", "inputs": {"observe": "cold-start"},
                                    "result": "ok", "observations": split})
    with pytest.raises(EntryError, match=r"^s\.observations\.first_request_ms: missing"):
        observation(wrong, "s")
    unnamed = ScenarioStep.from_dict({"name": "s", "action": "observe", "observations": {
        "first_request_ms": 900.0, "parts": {"ready_ms": 880.0}}})  # no inputs.observe: the kind is not guessed
    assert observation(unnamed) is None
    cold = ScenarioStep.from_dict({"name": "s", "action": "observe", "inputs": {"observe": "cold-start"},
                                   "observations": {"first_request_ms": 900.0, "parts": {"ready_ms": 880.0}}})
    assert isinstance(observation(cold), ColdStart)
    isvc = ScenarioStep.from_dict({"name": "s", "action": "observe", "inputs": {"observe": "isvc"},
                                   "observations": {"layers": {}, "added_ms": {}}})
    assert observation(isvc) is None  # the isvc observer measures nothing the report draws
    assert not isinstance(observation(isvc), LatencyLayers)
