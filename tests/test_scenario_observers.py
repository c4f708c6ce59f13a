"""Scenario observers against the fake cluster with real runtimes, plus their parsing and arithmetic."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from kslab.errors import UsageError
from kslab.models.run_record import RunRecord
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers import OBSERVERS, promtext
from kslab.scenarios.observers.podmetrics import delta
from kslab.scenarios.observers.split import compare
from kslab.scenarios.observers.stats import binomial_tolerance_points, counter_delta, median_ms
from kslab.scenarios.timelines import ScenarioTimelines
from kslab.session import Session
from tests.fakecluster.controllers.lab import wait_for
from tests.scenario_harness.fixture import (  # noqa: F401
    NS,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)
from tests.scenario_harness.traffic import background_load, burst, predict

REV1, REV2 = "sklearn-iris-predictor-00001", "sklearn-iris-predictor-00002"
HOST = "sklearn-iris.kserve-test.example.com"


def context(scenario_lab, tmp_path: Path, isvc: str = "sklearn-iris") -> ScenarioContext:
    settings = scenario_lab.settings(reports_dir=str(tmp_path / "reports"))
    record = RunRecord(tmp_path / "reports", "scenario")
    return ScenarioContext(session=Session(settings, record=record), namespace=NS, isvc=isvc, params={},
                           result={"events": [], "timelines": {}})


# -- parsing and arithmetic (no cluster) -------------------------------------------------------------------
KSERVE_METRICS = '''# HELP request_predict_seconds predict latency
# TYPE request_predict_seconds histogram
request_predict_seconds_bucket{le="0.005",model_name="sklearn-iris"} 3.0
request_predict_seconds_bucket{le="+Inf",model_name="sklearn-iris"} 4.0
request_predict_seconds_count{model_name="sklearn-iris"} 4.0
request_predict_seconds_sum{model_name="sklearn-iris"} 0.0125
request_predict_seconds_count{model_name="other"} 9.0
odd_label{path="a \\"quoted\\" \\\\ value",} 1e3 1700000000000
'''


def test_prometheus_text_reader_sums_kserve_histogram_samples_by_label():
    samples = promtext.parse(KSERVE_METRICS, "request_predict_seconds")
    assert promtext.value(samples, "request_predict_seconds_count", model_name="sklearn-iris") == 4.0
    assert promtext.value(samples, "request_predict_seconds_sum", model_name="sklearn-iris") == 0.0125
    assert promtext.value(samples, "request_predict_seconds_count") == 13.0
    assert promtext.value(samples, "missing") is None
    bucket = next(s for s in samples if s.name.endswith("_bucket") and s.labels["le"] == "+Inf")
    assert bucket.labels == {"le": "+Inf", "model_name": "sklearn-iris"}
    assert next(s for s in samples if s.name == "odd_label").labels == {"path": 'a "quoted" \\ value'}


def test_a_declared_family_without_samples_is_metrics_with_nothing_counted_yet():
    # what KServe's model server answers before its first predict: the histogram is declared, no child exists
    text = "# HELP request_predict_seconds predict request latency\n# TYPE request_predict_seconds histogram\n"
    assert promtext.value(promtext.parse(text, "request_predict_seconds"), "request_predict_seconds_count") is None
    untyped = 'request_predict_seconds_count{model_name="m"} 2.0\n'  # no HELP/TYPE lines: still the family
    assert promtext.value(promtext.parse(untyped, "request_predict_seconds"), "request_predict_seconds_count") == 2


@pytest.mark.parametrize(("text", "why"), [
    ("<html>503 Service Unavailable</html>", "not Prometheus exposition text"),
    ('{"kind": "Status", "status": "Failure", "message": "no endpoints available"}', "not Prometheus exposition"),
    ("", "no metric family 'request_predict_seconds'.*empty body"),  # an empty 200
    ("Not Found", "not Prometheus exposition text"),
    ('x{a="1" 2', "not Prometheus exposition text"),
    ("m notanumber", "not Prometheus exposition text"),
    # valid exposition text, but another program's (the library reads "metric 1 2 3" leniently, too)
    ("metric 1 2 3", "no metric family"),
    ('# TYPE revision_app_request_count counter\nrevision_app_request_count{code="200"} 7\n', "no metric family"),
])
def test_prometheus_text_reader_rejects_what_is_not_the_model_servers_metrics(text, why):
    with pytest.raises(ValueError, match=why):
        promtext.parse(text, "request_predict_seconds")


def test_binomial_tolerance_and_deltas():
    assert binomial_tolerance_points(10, 400) == pytest.approx(3.29 * math.sqrt(0.09 / 400) * 100)  # 4.935
    assert binomial_tolerance_points(100, 50) == 0 and binomial_tolerance_points(50, 0) == math.inf
    assert counter_delta(10, 25) == 15 and counter_delta(None, 7) == 7 and counter_delta(30, 4) == 4  # reset
    assert counter_delta(5, None) == 0 and median_ms([3.0, 1.0, 2.0]) == 2.0 and median_ms([]) is None
    before = {"pods": {"a": {"revision": "r1", "count": 10, "sum": 1.0}, "b": {"revision": "r2", "count": 5,
                                                                                "sum": 0.5}}}
    after = {"pods": {"a": {"revision": "r1", "count": 46, "sum": 1.5}, "b": {"revision": "r2", "count": 9,
                                                                               "sum": 0.6},
                      "c": {"revision": "r1", "count": 4, "sum": 0.1}}}
    assert delta(before, after) == {"r1": {"requests": 40, "predict_s": pytest.approx(0.6)},
                                    "r2": {"requests": 4, "predict_s": pytest.approx(0.1)}}


def test_compare_flags_a_split_off_by_30_points_and_accepts_a_fair_one():
    fair = compare({"r1": 358, "r2": 42}, {"r1": 90, "r2": 10})
    assert fair["within_tolerance"] and fair["total"] == 400 and fair["max_deviation_points"] == 0.5
    assert fair["tolerance_points"] == pytest.approx(4.935, abs=0.01)
    skewed = compare({"r1": 240, "r2": 160}, {"r1": 90, "r2": 10})
    assert not skewed["within_tolerance"] and skewed["max_deviation_points"] == 30.0
    assert not compare({}, {"r1": 100})["within_tolerance"]  # nothing counted proves nothing
    assert compare({"r1": 50}, {"r1": 100})["within_tolerance"]


# -- against the fake cluster and real runtimes --------------------------------------------------------------
def test_traffic_split_observer_measures_the_canary_from_pod_metrics(scenario_lab, tmp_path):
    scenario_lab.deploy()
    scenario_lab.canary(10)
    ctx = context(scenario_lab, tmp_path)
    result = OBSERVERS["traffic-split"](ctx, {"requests": 300, "concurrency": 4})
    assert result["sent"]["ok"] == 300 and result["total"] == 300
    assert result["configured"] == {REV1: 90.0, REV2: 10.0} and result["latest_revision"] == REV2
    assert result["within_tolerance"], result["revisions"]
    assert result["revisions"][REV2]["requests"] + result["revisions"][REV1]["requests"] == 300
    assert sum(scenario_lab.router.routed.get((NS, r), 0) for r in (REV1, REV2)) >= 300
    assert [e["label"] for e in ctx.result["events"]] == ["traffic-split: sending 300 requests",
                                                          "traffic-split: requests done"]
    # baseline mode: nothing sent, the delta since the saved observation
    ctx.saved["before"] = result
    scenario_lab.split_skew_points = 30
    assert burst(200, 8, lambda: predict(scenario_lab.router.url, HOST)) == [200] * 200
    later = OBSERVERS["traffic-split"](ctx, {"baseline": "before"})
    assert later["sent"] is None and later["total"] == 200
    assert not later["within_tolerance"] and later["max_deviation_points"] > 15
    with pytest.raises(UsageError, match="not a saved traffic-split"):
        OBSERVERS["traffic-split"](ctx, {"baseline": "nothing"})


def test_isvc_and_resources_observers(scenario_lab, tmp_path):
    scenario_lab.deploy()
    ctx = context(scenario_lab, tmp_path)
    snap = OBSERVERS["isvc"](ctx, {})
    assert snap["ready"] and snap["conditions"]["PredictorReady"] == "True"
    assert snap["url"] == f"http://{HOST}" and snap["deployment_mode"] == "Knative"
    assert snap["latest_ready_revision"] == REV1 and snap["traffic"][0]["percent"] == 100
    found = OBSERVERS["resources"](ctx, {
        "expect_present": [["serving.knative.dev/v1", "Service", "{isvc}-predictor"],
                           ["networking.istio.io/v1beta1", "VirtualService", "{isvc}"]],
        "expect_absent": [["apps/v1", "Deployment", "{isvc}-predictor"],
                          ["serving.knative.dev/v1", "Service", "{isvc}-explainer"]]})
    assert found["ok"] and found["problems"] == [] and len(found["present"]) == 2
    wrong = OBSERVERS["resources"](ctx, {"expect_absent": [["serving.knative.dev/v1", "Service", "{isvc}-predictor"]],
                                         "expect_present": [["autoscaling/v2", "HorizontalPodAutoscaler", "{isvc}"]]})
    assert not wrong["ok"]
    assert wrong["problems"] == ["HorizontalPodAutoscaler sklearn-iris (autoscaling/v2) is missing in namespace "
                                 "kserve-test", "Service sklearn-iris-predictor (serving.knative.dev/v1) is still "
                                 "present in namespace kserve-test"]


def test_timelines_and_replicas_observer_follow_a_scale_out(scenario_lab, tmp_path):
    ctx = context(scenario_lab, tmp_path)
    timelines = ScenarioTimelines()
    timelines.start(ctx)
    scenario_lab.deploy(minReplicas=1, maxReplicas=6, scaleMetric="concurrency", scaleTarget=5)
    with background_load(10, lambda: predict(scenario_lab.router.url, HOST)) as codes:
        during = wait_for(lambda: (d := OBSERVERS["replicas"](ctx, {})) and d["max_seen"] > 1 and d, 20,
                          "a second Ready pod under load")
    assert set(codes) == {200}
    assert during["max_seen"] <= 6
    assert during["by_revision"][REV1]["podautoscaler"]["target"] == "5"
    started = time.monotonic()
    data = timelines.stop()
    assert time.monotonic() - started < 3.5  # stops promptly
    types = {c["type"] for c in data["conditions"]}
    assert {"Ready", "PredictorReady", "IngressReady"} <= types
    assert [t["targets"] for t in data["traffic"]][-1] == [
        {"revisionName": REV1, "percent": 100, "tag": None, "latestRevision": True}]
    rows = [r for r in data["replicas"] if r["name"] == f"{REV1}-deployment"]
    assert max(r["desired"] for r in rows) > 1 and all(r["t_s"] >= 0 for r in rows)
    assert data["pods"] and ctx.result["timelines"] is timelines.data
    wait_for(lambda: OBSERVERS["replicas"](ctx, {})["total_ready"] == 1, 10, "back to one replica")


@pytest.mark.parametrize("leave", [False, True])
def test_leave_ksvc_on_delete_knob_orphans_the_knative_service(scenario_lab, tmp_path, leave):
    from tests.fakecluster.resources import ISVCS, KSVCS

    scenario_lab.deploy()
    scenario_lab.knobs.leave_ksvc_on_delete = leave
    scenario_lab.store.delete(ISVCS, NS, "sklearn-iris")
    wait_for(lambda: scenario_lab.store.find(ISVCS, NS, "sklearn-iris") is None, 10, "the ISVC gone")
    # the fake store collects an owner's dependents inside the call that removes it (store._remove), so once the
    # ISVC is gone garbage collection has run: an orphaned ksvc still present now stays (no sleep needed)
    if not leave:
        assert scenario_lab.store.find(KSVCS, NS, "sklearn-iris-predictor") is None
    ctx = context(scenario_lab, tmp_path)
    found = OBSERVERS["resources"](ctx, {"expect_absent": [["serving.knative.dev/v1", "Service", "{isvc}-predictor"]]})
    assert found["ok"] is not leave
    if leave:
        assert found["problems"] == ["Service sklearn-iris-predictor (serving.knative.dev/v1) is still present in "
                                     "namespace kserve-test"]
        assert not scenario_lab.store.get(KSVCS, NS, "sklearn-iris-predictor")["metadata"].get("ownerReferences")


def test_timelines_stop_when_the_scenario_is_stopped(scenario_lab, tmp_path):
    ctx = context(scenario_lab, tmp_path)
    timelines = ScenarioTimelines()
    timelines.start(ctx)
    scenario_lab.deploy()
    wait_for(lambda: any(r["type"] == "Ready" and r["status"] == "True" for r in ctx.result["timelines"]["conditions"]),
             5, "the Ready condition on the timeline")
    ctx.stop.set()  # Ctrl-C or a failed step: the watch threads end on their own
    wait_for(lambda: not any(t.is_alive() for t in timelines._threads), 4, "the timeline threads to end")
    assert timelines.stop()["conditions"]
