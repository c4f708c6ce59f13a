"""`kslab scenario run explainer` end to end: the fake KServe controller builds the explainer children and a
real KServe explainer (tests/scenario_harness/explainer_server.py) answers :explain by asking the predictor."""

from __future__ import annotations

from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.resources import ISVCS, KSVCS, PODS, VIRTUAL_SERVICES
from tests.scenario_harness.fixture import (  # noqa: F401
    NS,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)
from tests.scenario_harness.traffic import IRIS, post

HOST = "sklearn-iris.kserve-test.example.com"


def test_explainer_scenario_passes_with_real_explanations(scenario_lab, capsys):
    code, _, _ = scenario_lab.kslab(capsys, "-o", "json", "scenario", "run", "explainer",
                                    "--set", "ready_timeout=60s")
    [entry] = scenario_lab.lab.record()["scenarios"]
    assert (code, entry["verdict"]) == (0, "passed"), entry["reason"]
    explained = next(s for s in entry["steps"] if s["name"] == "explain")["observations"]
    body = explained["explanation"]["explanations"]
    assert body["method"] == "feature-baseline-sensitivity" and body["predictions"] == [1, 1]
    assert len(body["feature_contributions"]) == 4 and max(body["feature_contributions"]) > 0  # petal features
    # the explainer's predictions came from the real predictor, through the router
    routed = scenario_lab.router.routed
    assert sum(n for (_, rev), n in routed.items() if rev.startswith("sklearn-iris-predictor")) >= 5
    # children and status exactly as KServe builds them (facts §4.3, §5.1)
    ksvc = scenario_lab.store.get(KSVCS, NS, "sklearn-iris-explainer")
    container = ksvc["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "kserve/art-explainer:v0.20.0"
    assert "--predictor_host=sklearn-iris-predictor.kserve-test" in container["args"]
    isvc = scenario_lab.store.get(ISVCS, NS, "sklearn-iris")
    for condition in ("ExplainerReady", "ExplainerRoutesReady", "ExplainerConfigurationReady", "Ready"):
        assert find_condition(isvc, condition)["status"] == "True", condition
    assert isvc["status"]["components"]["explainer"]["latestReadyRevision"] == "sklearn-iris-explainer-00001"
    vs = scenario_lab.store.get(VIRTUAL_SERVICES, NS, "sklearn-iris")
    assert vs["spec"]["http"][0]["match"][0]["uri"] == {"regex": r"^/v1/models/[\w-]+:explain$"}
    assert vs["spec"]["http"][0]["headers"]["request"]["set"]["Host"] == \
        "sklearn-iris-explainer.kserve-test.svc.cluster.local"
    pods = scenario_lab.store.list(PODS, NS, label_selector="component=explainer")[0]
    assert pods and pods[0]["metadata"]["labels"]["serving.kserve.io/inferenceservice"] == "sklearn-iris"


def test_explainer_not_ready_keeps_ingress_back(scenario_lab):
    scenario_lab.deploy()
    scenario_lab.fail_model_uri("gs://example/iris-explainer")

    def add(obj):
        obj["spec"]["explainer"] = {"containers": [{
            "name": "kserve-container", "image": "kserve/alibi-explainer:v0.12.1",
            "args": ["--model_name=sklearn-iris", "--predictor_host=sklearn-iris-predictor.kserve-test",
                     "--http_port=8080", "--storage_uri=/mnt/models", "AnchorTabular"],
            "env": [{"name": "STORAGE_URI", "value": "gs://example/iris-explainer"}]}]}
    scenario_lab.store.mutate(ISVCS, NS, "sklearn-iris", add)
    from tests.fakecluster.controllers.lab import wait_for

    def ingress_held() -> dict | None:
        isvc = scenario_lab.store.get(ISVCS, NS, "sklearn-iris")
        ingress = find_condition(isvc, "IngressReady") or {}
        return isvc if ingress.get("reason") == "Explainer ingress not created" else None
    isvc = wait_for(ingress_held, 10, "IngressReady held back by the explainer")
    assert find_condition(isvc, "Ready")["status"] != "True"
    assert find_condition(isvc, "ExplainerReady")["status"] != "True"
    status, _ = post(scenario_lab.router.url, HOST, "/v1/models/sklearn-iris:predict", {"instances": IRIS})
    assert status == 200  # the predictor keeps serving


def test_explainer_is_skipped_with_the_reason_on_kserve_without_explainer_art(scenario_lab, capsys, monkeypatch):
    monkeypatch.setenv("KSLAB_KSERVE_VERSION", "0.12.0")
    code, _, _ = scenario_lab.kslab(capsys, "-o", "json", "scenario", "run", "explainer")
    [entry] = scenario_lab.lab.record()["scenarios"]
    assert entry["verdict"] == "skipped" and code == 0
    assert "0.13" in entry["reason"] and "alibi removed" in entry["reason"], entry["reason"]
    assert scenario_lab.store.find(ISVCS, NS, "sklearn-iris") is None  # nothing was deployed
