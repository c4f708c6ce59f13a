"""`kslab scenario run cold-start` end to end: scale to zero, the activator holds the first request."""

from __future__ import annotations

from tests.scenario_harness.fixture import (  # noqa: F401
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

SHORT = ("--set", "zero_timeout=20s", "--set", "request_timeout=20s", "--set", "ready_timeout=30s")


def run_cold_start(scenario_lab, capsys) -> tuple[int, dict]:
    code, _, _ = scenario_lab.kslab(capsys, "-o", "json", "scenario", "run", "cold-start", *SHORT)
    [entry] = scenario_lab.lab.record()["scenarios"]
    return code, entry


def test_cold_start_times_the_first_request_after_scale_to_zero(scenario_lab, capsys):
    scenario_lab.knobs.container_start_delay = 0.3  # a visible start-up, so the parts are ordered apart
    code, entry = run_cold_start(scenario_lab, capsys)
    assert (code, entry["verdict"]) == (0, "passed"), entry["reason"]
    cold = next(s for s in entry["steps"] if s["name"] == "first request after scale to zero")["observations"]
    parts = cold["parts"]
    assert cold["status"] == 200 and cold["predictions"] == [1, 1]
    assert 0 <= parts["scheduled_ms"] <= parts["containers_started_ms"] < parts["ready_ms"] <= parts["response_ms"]
    assert parts["ready_ms"] - parts["containers_started_ms"] >= 200  # the 0.3 s start-up delay shows up
    assert cold["pod"].startswith("sklearn-iris-predictor-00002-deployment-")
    assert set(cold["status_timestamps"]) == {"created", "scheduled", "containers_started", "ready"}
    labels = [e["label"] for e in entry["events"]]
    assert labels.index("cold-start: scaled to zero") < labels.index("cold-start: first request sent") < \
        labels.index("cold-start: first response")
    assert all(a["ok"] for a in entry["assertions"]) and len(entry["assertions"]) == 5


def test_cold_start_fails_when_no_pod_ever_comes_back(scenario_lab, capsys):
    scenario_lab.freeze_autoscaler = True  # the held request never reaches the KPA: no pod is started
    scenario_lab.router.activator_timeout_s = 2.0
    code, entry = run_cold_start(scenario_lab, capsys)
    assert code != 0 and entry["verdict"] == "failed"
    assert "first request after scale-to-zero failed: HTTP 503" in entry["reason"], entry["reason"]
