"""`kslab scenario run explainer` end to end: the fake KServe controller builds the explainer children, kslab's
own explainer (``python -m kslab.explainer``, the code its image runs) answers :explain by asking the real
predictor through the router, and the ART variant fails on iris the way KServe's ART explainer does."""

from __future__ import annotations

import json

import pytest

from kslab.local import process
from kslab.scenarios.observers.explain import top_features
from kslab.scenarios.requirements import explainer_image
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.resources import ISVCS, KSVCS, PODS, VIRTUAL_SERVICES
from tests.scenario_harness.fixture import (  # noqa: F401
    NS,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)
from tests.scenario_harness.runtimes import spawn
from tests.scenario_harness.traffic import IRIS, post

HOST = "sklearn-iris.kserve-test.example.com"

IMAGE = explainer_image()


@pytest.fixture
def explainer_lab(scenario_lab):
    """The scenario lab with kslab's explainer image on the node, as `kslab up` leaves it on kind."""
    scenario_lab.cluster.node.add_image(IMAGE)
    return scenario_lab


def _explain_step(entry: dict) -> dict:
    return next(s for s in entry["steps"] if s["name"] == "explain")["observations"]


def test_explainer_scenario_passes_with_kslabs_explainer_and_real_attributions(explainer_lab, capsys):
    code, _, _ = explainer_lab.kslab(capsys, "-o", "json", "scenario", "run", "explainer",
                                     "--set", "ready_timeout=60s")
    [entry] = explainer_lab.lab.record()["scenarios"]
    assert (code, entry["verdict"]) == (0, "passed"), entry["reason"]
    observed = _explain_step(entry)
    body = observed["explanation"]
    assert body["method"] == "interventional-shapley"
    assert [e["prediction"] for e in body["explanations"]] == [1, 2]  # the real predictor's classes
    assert observed["top_ok"] is True and observed["top_problems"] == ""
    assert [set(top[:2]) for top in observed["top_features"]] == [{"petal_length", "petal_width"}] * 2
    names = [a["name"] for a in entry["assertions"]]
    assert "petal length and width explain each prediction" in names
    skipped = next(s for s in entry["steps"] if s["name"] == "or KServe's ART explainer")
    assert skipped["result"] == "skipped"
    # the explainer's predictions came from the real predictor, through the router (one batch per :explain)
    routed = explainer_lab.router.routed
    assert sum(n for (_, rev), n in routed.items() if rev.startswith("sklearn-iris-predictor")) >= 2
    # children and status exactly as KServe builds them for spec.explainer.containers
    ksvc = explainer_lab.store.get(KSVCS, NS, "sklearn-iris-explainer")
    [container] = ksvc["spec"]["template"]["spec"]["containers"]
    assert (container["name"], container["image"]) == ("kserve-container", IMAGE)
    assert container["args"] == ["--model_name=sklearn-iris", "--predictor_host=sklearn-iris-predictor.kserve-test",
                                 "--http_port=8080"]
    isvc = explainer_lab.store.get(ISVCS, NS, "sklearn-iris")
    assert "art" not in isvc["spec"]["explainer"]
    for condition in ("ExplainerReady", "ExplainerRoutesReady", "ExplainerConfigurationReady", "Ready"):
        assert find_condition(isvc, condition)["status"] == "True", condition
    assert isvc["status"]["components"]["explainer"]["latestReadyRevision"] == "sklearn-iris-explainer-00001"
    vs = explainer_lab.store.get(VIRTUAL_SERVICES, NS, "sklearn-iris")
    assert vs["spec"]["http"][0]["match"][0]["uri"] == {"regex": r"^/v1/models/[\w-]+:explain$"}
    assert vs["spec"]["http"][0]["headers"]["request"]["set"]["Host"] == \
        "sklearn-iris-explainer.kserve-test.svc.cluster.local"
    pods = explainer_lab.store.list(PODS, NS, label_selector="component=explainer")[0]
    assert pods and pods[0]["metadata"]["labels"]["serving.kserve.io/inferenceservice"] == "sklearn-iris"


def test_the_art_explainer_on_iris_fails_the_scenario_with_its_500(explainer_lab, capsys):
    code, _, _ = explainer_lab.kslab(capsys, "-o", "json", "scenario", "run", "explainer",
                                     "--set", "ready_timeout=60s", "--set", "art=true")
    [entry] = explainer_lab.lab.record()["scenarios"]
    assert entry["verdict"] == "failed" and code != 0
    assert 'step 10 "explain answered"' in entry["reason"], entry["reason"]
    assert ":explain answered 500" in entry["reason"] and "Failed to explain" in entry["reason"], entry["reason"]
    observed = _explain_step(entry)
    assert observed["status"] == 500 and observed["explanation"] is None and observed["top_ok"] is False
    # what ran is KServe's ART explainer, with the args KServe gives it (explainer_art.go)
    ksvc = explainer_lab.store.get(KSVCS, NS, "sklearn-iris-explainer")
    [container] = ksvc["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "kserve/art-explainer:v0.20.0"
    assert "--adversary_type=SquareAttack" in container["args"]
    assert explainer_lab.store.get(ISVCS, NS, "sklearn-iris")["spec"]["explainer"].get("containers") is None


def test_the_art_stand_in_answers_iris_rows_as_upstream_does(tmp_path):
    """Pinned against kserve/kserve@v0.20.0:python/artexplainer/artserver/model.py (ARTModel.explain: instances[0]
    is the image, instances[1] its label; any attack failure re-raised as Exception("Failed to explain ...")) and
    kserve/kserve@v0.20.0:python/kserve/kserve/errors.py (generic_exception_handler: 500,
    {"error": "<type> : <message>"}). Which step inside the try fails first on iris rows (the classifier's first
    predict or SquareAttack.generate refusing x.ndim != 4) depends on the image's ART and asyncio versions, so
    only the wrapper and the status are pinned; the IndexError comes before the try and is exact."""
    args = ["tests.scenario_harness.art_explainer", "--model_name=sklearn-iris",
            "--predictor_host=sklearn-iris-predictor.kserve-test", "--http_port=8080", "--adversary_type=SquareAttack"]
    pid, url = spawn(args, tmp_path)
    try:
        two_rows = post(url, "x", "/v1/models/sklearn-iris:explain", {"instances": IRIS})
        one_row = post(url, "x", "/v1/models/sklearn-iris:explain", {"instances": IRIS[:1]})
    finally:
        process.terminate_group(pid, 5)
    assert two_rows[0] == 500 and json.loads(two_rows[1])["error"].startswith("Exception : Failed to explain ")
    assert one_row[0] == 500 and json.loads(one_row[1]) == {"error": "IndexError : list index out of range"}


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


def test_expect_top_names_the_explanation_whose_top_features_differ():
    body = {"explanations": [
        {"top_features": ["petal_width", "petal_length", "sepal_length"], "attributions": {}},
        {"top_features": ["petal_length", "sepal_width", "petal_width"], "attributions": {"sepal_width": 0.2}}]}
    top, problems = top_features(body, ["petal_length", "petal_width"])
    assert top[0] == ["petal_width", "petal_length", "sepal_length"]
    assert problems == ["explanation 1: top 2 features are ['petal_length', 'sepal_width'], expected "
                        "['petal_length', 'petal_width'] (attributions {'sepal_width': 0.2})"]
    assert top_features({"explanations": {"adversarial_example": []}}, ["petal_length"])[1] == \
        ["no list of explanations to read top_features from (got dict)"]
    assert top_features(None, []) == ([], [])
