"""The raw-mode scenario end to end on the fake cluster: Knative InferenceService deleted and recreated as
RawDeployment, its raw children checked, and the re-resolved endpoint smoke-tested on a real runtime."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenario_harness.fixture import (  # noqa: F401  (fixtures)
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

KSVC = "sklearn-iris-predictor"


def run(harness: ScenarioLab, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, dict[str, Any]]:
    code, out, err = harness.kslab(capsys, "scenario", "run", "raw-mode", "--set", "ready_timeout=30s", *argv)
    [entry] = harness.lab.record()["scenarios"]
    return code, out + err, entry


def step(entry: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in entry["steps"] if s["name"] == name]
    return found


def test_raw_mode_passes_and_smokes_through_the_predictor_service(scenario_lab: ScenarioLab,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, output, entry = run(scenario_lab, capsys)
    assert code == 0, (entry["reason"], output)
    assert entry["verdict"] == "passed"
    assert step(entry, "knative children")["observations"]["present"] == [["serving.knative.dev/v1", "Service", KSVC]]
    raw = step(entry, "raw children")["observations"]
    assert raw["ok"] is True and raw["problems"] == []
    assert sorted(kind for _, kind, _ in raw["present"]) == ["Deployment", "HorizontalPodAutoscaler", "Service"]
    assert raw["absent"] == [["serving.knative.dev/v1", "Service", KSVC]]
    assert step(entry, "mode annotation")["observations"]["value"] == "Standard"  # 0.17+ rewrites RawDeployment
    smoke = step(entry, "smoke through the raw path")["observations"]
    assert smoke["ok"] is True and smoke["failed"] == 0
    # re-resolved: Knative went through the gateway with a Host header, raw goes straight to the predictor Service
    assert "(Host: sklearn-iris.kserve-test.example.com)" in step(entry, "knative answers")["observations"]["endpoint"]
    assert "Host:" not in smoke["endpoint"] and smoke["endpoint"].endswith("via port-forward")
    isvc = scenario_lab.lab.isvc()
    assert isvc["status"]["deploymentMode"] == "Standard"
    assert isvc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"


def test_raw_mode_fails_naming_the_leftover_knative_service(scenario_lab: ScenarioLab,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    scenario_lab.knobs.leave_ksvc_on_delete = True
    code, output, entry = run(scenario_lab, capsys, "--set", "gc_timeout=2s")
    assert code == 1
    assert entry["verdict"] == "failed"
    assert entry["reason"].startswith('step 8 "knative service garbage-collected": timed out after 2s waiting for '
                                      f'service.serving.knative.dev/{KSVC} -n kserve-test to be deleted'), \
        entry["reason"]
    [failed] = [a for a in entry["assertions"] if not a["ok"]]
    assert failed["message"] == ("raw children present and no Knative Service: expected true, observed False "
                                 f"(['Service {KSVC} (serving.knative.dev/v1) is still present in namespace "
                                 "kserve-test'])")
    assert not [s for s in entry["steps"] if s["name"] == "smoke through the raw path"]  # stopped at the assertion
    assert step(entry, "evidence")["phase"] == "catch"
    assert "scenario raw-mode failed: step 8" in output
