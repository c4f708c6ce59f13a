"""`kslab scenario run mode-compare` end to end on the fake cluster: a Serverless and a RawDeployment
InferenceService side by side, real model servers behind the harness router (gateway + activator).

What is asserted is mechanical (objects, containers, requests, zero pods at idle, a cold start only for
serverless, every round measured) and consistent (percentiles ordered, counts add up), never which mode is faster.
"""

from __future__ import annotations

from typing import Any

import pytest

from kslab.load.jobspec import DEFAULT_IMAGE
from tests.load_in_cluster_support import VENV_BIN
from tests.scenario_harness.fixture import (  # noqa: F401  (fixtures)
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

NS = "kserve-test"
SLS, RAW = "sklearn-iris-serverless", "sklearn-iris-raw"
SHORT = ("--set", "rounds=2", "--set", "levels=1,4", "--set", "requests=20", "--set", "in_cluster_levels=4",
         "--set", "idle_window=20s", "--set", "scale_window=15s", "--set", "step_concurrency=8",
         "--set", "rollout_timeout=30s", "--set", "ready_timeout=30s", "--set", "request_timeout=20s",
         # the harness's fast real runtimes keep only ~2-3 requests in flight on a busy machine: target 1 per pod
         # so the KPA's reaction to the load step never hinges on CPU contention (as test_scenario_autoscale)
         "--set", "scale_target=1")


@pytest.fixture(params=["0.20.0", "0.15.2"], name="kserve")
def kserve_fixture(request: pytest.FixtureRequest, lab: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The KServe release of the fake cluster and of kslab's settings (0.15: Serverless/RawDeployment names)."""
    lab.knobs.kserve_version = request.param
    monkeypatch.setenv("KSLAB_KSERVE_VERSION", request.param)
    return str(request.param)


def in_cluster_ready(harness: ScenarioLab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The load image on the fake node, and both InferenceServices' cluster addresses answered by the router."""
    monkeypatch.setenv("KSLAB_LOAD__IMAGE", DEFAULT_IMAGE)
    harness.cluster.node.load_image(DEFAULT_IMAGE, VENV_BIN)
    for host in (f"{SLS}.{NS}.svc.cluster.local", f"{RAW}-predictor.{NS}.svc.cluster.local"):
        harness.cluster.node.register_service(host, harness.router.url)


def run(harness: ScenarioLab, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, dict[str, Any]]:
    code, out, err = harness.kslab(capsys, "scenario", "run", "mode-compare", *SHORT, *argv)
    [entry] = harness.lab.record()["scenarios"]
    return code, out + err, entry


def observed(entry: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in entry["steps"] if s["name"] == name]
    return found["observations"]


def test_mode_compare_side_by_side(kserve: str, scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    in_cluster_ready(scenario_lab, monkeypatch)
    code, output, entry = run(scenario_lab, capsys)
    assert (code, entry["verdict"]) == (0, "passed"), (entry["reason"], output[-3000:])
    ready = observed(entry, "both ready")["sides"]
    names = ("Serverless", "RawDeployment") if kserve.startswith("0.15") else ("Knative", "Standard")
    assert (ready["serverless"]["deployment_mode"], ready["raw"]["deployment_mode"]) == names
    assert all(s["ready"] and s["ready_s"] >= 0 for s in ready.values())
    deployed = observed(entry, "footprint deployed")["sides"]
    sls, raw = deployed["serverless"], deployed["raw"]
    # Knative: ksvc -> configuration/route -> revision -> deployment/podautoscaler/services -> replicaset -> pod
    assert {"Service (serving.knative.dev)", "Configuration", "Route", "Revision", "PodAutoscaler", "Deployment",
            "ReplicaSet"} <= set(sls["objects"]), sls["objects"]
    assert "HorizontalPodAutoscaler" not in sls["objects"]
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ReplicaSet", "Pod"} <= set(raw["objects"])
    assert not {"Revision", "Route", "Configuration"} & set(raw["objects"])
    assert sls["object_total"] == sum(sls["objects"].values())
    assert sls["containers"] == ["kserve-container", "queue-proxy"] and raw["containers"] == ["kserve-container"]
    # knative/serving@knative-v1.21.1:pkg/deployment/config.go QueueSidecarCPURequestDefault = 25m; no memory
    # request unless queueproxy.resource-defaults is Enabled
    assert sls["container_requests"]["queue-proxy"] == {"cpu_m": 25, "memory_mi": 0.0}
    assert sls["container_requests"]["kserve-container"] == raw["container_requests"]["kserve-container"] == \
        {"cpu_m": 100, "memory_mi": 256.0}
    assert sls["requests_per_pod"] == {"cpu_m": 125, "memory_mi": 256.0}
    assert raw["requests_per_pod"] == {"cpu_m": 100, "memory_mi": 256.0}
    idle = observed(entry, "footprint idle")
    assert idle["reached_zero"] is True
    assert idle["sides"]["serverless"]["pods"] == 0 and idle["sides"]["serverless"]["requests_total"]["cpu_m"] == 0
    assert idle["sides"]["raw"]["pods"] == 1  # KServe's DefaultMinReplicas 1 (hpa_reconciler.go)
    cold = observed(entry, "serverless cold start")
    assert cold["status"] == 200 and cold["pod"].startswith(f"{SLS}-predictor-")
    parts = cold["parts"]
    assert 0 <= parts["scheduled_ms"] <= parts["containers_started_ms"] <= parts["ready_ms"] <= parts["response_ms"]
    rounds = observed(entry, "latency rounds")
    assert rounds["skipped"] == {} and rounds["in_cluster_skipped"] is None
    endpoint = [c for c in rounds["cells"] if c["path"] == "gateway"]
    assert sorted((c["round"], c["level"], c["side"]) for c in endpoint) == sorted(
        (r, lv, s) for r in (1, 2) for lv in (1, 4) for s in ("serverless", "raw"))
    inside = [c for c in rounds["cells"] if c["path"] == "in_cluster"]
    assert sorted((c["round"], c["side"]) for c in inside) == [(1, "raw"), (1, "serverless"), (2, "raw"),
                                                                (2, "serverless")]
    assert all(c["level"] == 4 for c in inside)
    for cell in rounds["cells"]:
        assert cell["requests"] == 20 and cell["ok"] + cell["errors"] == cell["requests"], cell
        assert 0 < cell["p50_ms"] <= cell["p99_ms"] <= cell["max_ms"], cell
    first = {c["round"]: c["side"] for c in reversed(endpoint) if c["level"] == 1}  # the earlier cell wins
    assert (first[1], first[2]) == ("serverless", "raw")  # the side going first alternates by round
    for side in ("serverless", "raw"):
        cell = rounds["summary"][side]["gateway"]["4"]
        assert cell["rounds"] == 2 and cell["p99_min_ms"] <= cell["p99_ms"] <= cell["p99_max_ms"]
    rollout = observed(entry, "rollout under traffic")["sides"]
    assert rollout["serverless"]["mechanism"] == "Knative revision"
    assert rollout["raw"]["mechanism"] == "Deployment rolling update"
    for side in rollout.values():
        assert side["done"] is True and side["rollout_s"] >= 0 and side["to_uri"].endswith("model-2")
        assert side["requests"] >= side["errors"] >= 0
    scale = observed(entry, "autoscaling reaction")["sides"]
    assert scale["serverless"]["reaction_s"] is not None and scale["serverless"]["added"] >= 1
    # the fake HPA, like Kubernetes' without metrics-server, cannot read CPU: it never adds a replica
    assert scale["raw"]["reaction_s"] is None and scale["raw"]["hpa_scaling"] == "not observable without metrics-server"
    comparison = observed(entry, "side by side")
    rows = {r[0]: r[1:] for r in comparison["rows"]}
    assert rows["pods (idle)"][:2] == [0, 1]
    assert rows["cold start (first request)"][:2] == [cold["first_request_ms"], "none"]
    assert rows["containers per pod"][:2] == ["kserve-container, queue-proxy", "kserve-container"]
    assert any(s.startswith("At idle serverless holds 0 pod(s) vs 1 for raw") for s in comparison["reading"])
    assert any("At c=4 through the gateway, serverless's p99 is" in s for s in comparison["reading"])
    assert comparison["footprint"]["serverless"] and comparison["footprint"]["raw"]
    # both deleted at the end (cleanup: true)
    assert scenario_lab.lab.isvc(SLS) is None and scenario_lab.lab.isvc(RAW) is None
    # the report: the side-by-side table and the reading in Markdown and HTML, the four plots in HTML
    from kslab.report.render import render_all

    written = render_all(scenario_lab.lab.records()[-1].parent, ("md", "html"))
    markdown, html = written["md"].read_text(), written["html"].read_text()
    for text in (markdown, html):
        assert "side by side: Serverless vs RawDeployment" in text and "side by side: reading" in text
        assert "At idle serverless holds 0 pod(s) vs 1 for raw" in text
    from kslab.report.modes import comparison_plots
    from kslab.report.record import read_run

    [scenario] = read_run(scenario_lab.lab.record()).scenarios
    plots = comparison_plots(scenario)
    captions = [f"{c} — side by side" for c in (
        "Latency per concurrency level, both modes", "Ready pods over time (footprint)",
        "Serverless cold start, by part", "Rollout under traffic: failed requests and p99")]
    assert [caption for caption, _ in plots] == captions
    assert all(png.startswith(b"\x89PNG") for _, png in plots)
    for caption in captions:  # each drawn in the HTML report's scenario section, as an embedded image
        assert f'alt="{caption}" src="data:image/png;base64,' in html, caption


def test_a_side_that_never_gets_ready_fails_the_comparison_naming_it_and_its_layer(
        scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    """The Knative ingress never ready (net-istio cannot program the gateway): the serverless side is stuck, the
    raw side (no Knative route) becomes Ready; the comparison fails naming the serverless side and its layer, the
    diagnosis names the InferenceService that is broken, and the cleanup still deletes both."""
    scenario_lab.knobs.ingress_ready = False
    code, output, entry = run(scenario_lab, capsys, "--set", "ready_timeout=8s", "--set", "in_cluster=false")
    assert (code, entry["verdict"]) == (1, "failed"), output[-3000:]
    sides = observed(entry, "both ready")["sides"]
    assert sides["raw"]["ready"] is True and sides["serverless"]["ready"] is False
    assert sides["serverless"]["stuck_layer"] and sides["serverless"]["stuck"], sides["serverless"]
    assert "serverless" in entry["reason"] and "never became Ready" in entry["reason"], entry["reason"]
    assert entry["diagnosis"]["isvc"] == SLS and entry["diagnosis"]["broken"], entry["diagnosis"]
    assert scenario_lab.lab.isvc(SLS) is None and scenario_lab.lab.isvc(RAW) is None
