"""Fault battery, scenario part (issue 13): the raw-mode scenario runs end to end on the fake cluster, with real
model servers, while the API server misbehaves. Each case asserts the verdict, the exit code, a record with no
traceback text in it or in the output, and no kubectl port-forward left running."""

from __future__ import annotations

import json

import pytest

from tests.leak_guard import leftover_pids
from tests.scenario_harness.fixture import (  # noqa: F401  (fixtures)
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

TRACEBACK_TEXT = ("Traceback", "Original traceback")


def _run_raw_mode(harness: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict]:
    code, out, err = harness.kslab(capsys, "scenario", "run", "raw-mode", "--set", "ready_timeout=60s")
    text = sorted((harness.lab.tmp_path / "reports").glob("*/run.json"))[-1].read_text()
    for shown in (out, err, text):
        assert not any(t in shown for t in TRACEBACK_TEXT), shown[-2000:]
    [entry] = json.loads(text)["scenarios"]
    assert leftover_pids(str(harness.lab.tmp_path), watched=("port-forward",)) == []
    return code, out + err, entry


def test_a_scenario_rides_out_random_500s_on_the_group_apis(scenario_lab: ScenarioLab,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # kslab's own client calls (group APIs: KServe, Knative, apps, autoscaling) fail 15 % of the time; kubectl's
    # port-forward (core /api/v1, which kubectl does not retry either) is left alone
    rule = scenario_lab.lab.cluster.faults.fail_rate(r"^/apis\b", 0.15, status=500, seed=5)
    code, output, entry = _run_raw_mode(scenario_lab, capsys)
    assert (code, entry["verdict"]) == (0, "passed"), (entry["reason"], output[-3000:])
    assert rule.failed >= 3, f"the faults should have hit: {rule.failed} of {rule.matched}"


def test_a_scenario_survives_its_watches_cut_mid_stream(scenario_lab: ScenarioLab,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    rule = scenario_lab.lab.cluster.faults.drop_watch(r"/inferenceservices$", 1, abrupt=True)
    code, output, entry = _run_raw_mode(scenario_lab, capsys)
    assert (code, entry["verdict"]) == (0, "passed"), (entry["reason"], output[-3000:])
    assert rule.matched >= 1
