"""`kslab scenario run autoscale` end to end on the fake cluster: load through the router drives the KPA."""

from __future__ import annotations

from tests.scenario_harness.fixture import (  # noqa: F401
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

# scale_target 1: every request in flight at the router asks for a pod (KPA: target x 70 %). The harness carries
# only ~2-3 requests in flight at once on a 2-core machine (load generator, port-forward relay, router and runtime
# share the cores), so the default target 5 (3.5 per pod) sits at the edge of scaling out at all.
SHORT = ("--set", "duration=4s", "--set", "settle_timeout=20s", "--set", "ready_timeout=30s",
         "--set", "scale_target=1")


def run_autoscale(scenario_lab, capsys, *extra: str) -> tuple[int, dict]:
    code, _, _ = scenario_lab.kslab(capsys, "-o", "json", "scenario", "run", "autoscale", *SHORT, *extra)
    record = scenario_lab.lab.record()
    [entry] = record["scenarios"]
    return code, entry


def test_autoscale_scales_out_under_load_and_settles_back(scenario_lab, capsys):
    code, entry = run_autoscale(scenario_lab, capsys)
    assert (code, entry["verdict"]) == (0, "passed"), entry["reason"]
    steps = {s["name"]: s for s in entry["steps"]}
    after = steps["replicas after load"]["observations"]
    assert 2 <= after["max_seen"] <= 6 and after["settled"] is True and after["total_desired"] == 1
    assert steps["HPA settings"]["result"] == "skipped" and steps["KPA settings"]["result"] == "ok"
    pa = after["by_revision"][max(after["by_revision"])]["podautoscaler"]  # the patched revision
    assert (pa["target"], pa["metric"], pa["min-scale"], pa["max-scale"]) == ("1", "concurrency", "1", "6")
    rows = entry["timelines"]["replicas"]
    assert max(r["ready"] for r in rows) >= 2  # the timeline saw the scale-out too
    load = entry["load"][0]
    assert load["ok"] > 0 and load["error_total"] == 0
    names = [a["name"] for a in entry["assertions"]]
    assert names == ["replicas rose under load", "never above maxReplicas", "settled back to minReplicas"]
    assert all(a["ok"] for a in entry["assertions"])


def test_autoscale_fails_when_replicas_never_rise(scenario_lab, capsys):
    scenario_lab.freeze_autoscaler = True
    code, entry = run_autoscale(scenario_lab, capsys)
    assert code != 0 and entry["verdict"] == "failed"
    assert "replicas never rose above 1" in entry["reason"], entry["reason"]
    failed = [a for a in entry["assertions"] if not a["ok"]]
    assert [a["name"] for a in failed] == ["replicas rose under load"]
    # the flat timeline is still recorded: the predictor Deployment seen Ready at 1 replica, never more
    rows = [r for r in entry["timelines"]["replicas"] if r["name"].startswith("sklearn-iris-predictor-")]
    assert rows and all(set(r) == {"t_s", "name", "ready", "desired"} for r in rows), entry["timelines"]["replicas"]
    assert [r["t_s"] for r in rows] == sorted(r["t_s"] for r in rows)
    assert max(r["ready"] for r in rows) == 1 and max(r["desired"] for r in rows) == 1, rows
    after = next(s for s in entry["steps"] if s["name"] == "replicas after load")["observations"]
    assert after["max_seen"] == 1


def test_autoscale_raw_mode_checks_the_hpa_and_says_scaling_is_not_observable(scenario_lab, capsys, monkeypatch):
    monkeypatch.setenv("KSLAB_MODE", "standard")
    code, entry = run_autoscale(scenario_lab, capsys, "--set", "duration=1s")
    assert (code, entry["verdict"]) == (0, "passed"), entry["reason"]
    steps = {s["name"]: s for s in entry["steps"]}
    assert steps["KPA settings"]["result"] == "skipped" and steps["KPA scaled out and back"]["result"] == "skipped"
    after = steps["replicas after load"]["observations"]
    assert after["hpa"]["min"] == 1 and after["hpa"]["max"] == 6
    assert after["hpa"]["metrics"] == [{"resource": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}]
    assert after["hpa_scaling"] == "not observable without metrics-server"
    assert after["max_seen"] == 1 and list(after["by_revision"]) == ["sklearn-iris-predictor"]
    assert [a["name"] for a in entry["assertions"]] == ["HPA minReplicas", "HPA maxReplicas", "HPA metric is cpu",
                                                        "replicas stayed within min..max", "HPA scaling reported"]
    assert steps["HPA with metrics"]["result"] == "skipped"


def test_autoscale_raw_mode_with_metrics_server_requires_scaling_active(scenario_lab, capsys, monkeypatch):
    monkeypatch.setenv("KSLAB_MODE", "standard")
    scenario_lab.knobs.metrics_server = True  # the HPA reads CPU: ScalingActive=True/ValidMetricFound
    code, entry = run_autoscale(scenario_lab, capsys, "--set", "duration=1s")
    assert (code, entry["verdict"]) == (0, "passed"), entry["reason"]
    steps = {s["name"]: s for s in entry["steps"]}
    after = steps["replicas after load"]["observations"]
    assert (after["hpa"]["scaling_active"], after["hpa"]["scaling_reason"]) == ("True", "ValidMetricFound")
    assert after["hpa_scaling"] == "active"
    assert steps["HPA without metrics-server"]["result"] == "skipped"
    assert [a["name"] for a in entry["assertions"]][-1] == "HPA ScalingActive"
