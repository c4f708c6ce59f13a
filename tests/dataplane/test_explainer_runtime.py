"""kslab's explainer (``python -m kslab.explainer``, what the kslab/explainer image runs) against the real
KServe model server serving the real iris model: its attributions, and its answer when the predictor fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kslab.local import process
from tests.dataplane.conftest import MODEL
from tests.scenario_harness.runtimes import spawn

VERSICOLOR = [6.8, 2.8, 4.8, 1.4]
VIRGINICA = [6.3, 3.3, 6.0, 2.5]
PETALS = {"petal_length", "petal_width"}


def _explainer(tmp: Path, predictor_url: str, model: str = MODEL) -> tuple[int, str]:
    return spawn(["kslab.explainer", f"--model_name={model}", f"--predictor_host={MODEL}-predictor.kserve-test",
                  "--http_port=0", "--bind_address=127.0.0.1", f"--predictor_url={predictor_url}"], tmp)


@pytest.fixture(scope="module")
def explainer(iris_runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pid, url = _explainer(tmp_path_factory.mktemp("explainer"), iris_runtime.url)
    try:
        yield url
    finally:
        process.terminate_group(pid, 5)


def _explain(url: str, instances: list[list[float]], model: str = MODEL) -> requests.Response:
    return requests.post(f"{url}/v1/models/{model}:explain", json={"instances": instances}, timeout=30)


def test_petal_length_and_width_explain_a_versicolor_and_a_virginica(explainer):
    answer = _explain(explainer, [VERSICOLOR, VIRGINICA])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["method"] == "interventional-shapley" and body["background_rows"] == 30
    assert body["feature_names"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    versicolor, virginica = body["explanations"]
    assert (versicolor["instance"], versicolor["prediction"]) == (VERSICOLOR, 1)
    assert (virginica["instance"], virginica["prediction"]) == (VIRGINICA, 2)
    for explained in (versicolor, virginica):
        weights = explained["attributions"]
        assert set(explained["top_features"][:2]) == PETALS, weights
        assert min(weights["petal_length"], weights["petal_width"]) > 0.05, weights
        assert max(weights["sepal_length"], weights["sepal_width"]) < min(
            weights["petal_length"], weights["petal_width"]), weights
        # Shapley efficiency: the attributions add up to what the instance adds to the background
        assert sum(weights.values()) == pytest.approx(1 - explained["base_value"], abs=2e-3)


def test_malformed_instances_are_a_400_naming_the_features(explainer):
    answer = _explain(explainer, [[6.8, 2.8]])
    assert answer.status_code == 400
    assert "4 numbers (sepal_length, sepal_width, petal_length, petal_width)" in answer.json()["error"]


def test_a_failing_predictor_makes_explain_answer_502_with_what_it_said(iris_runtime, tmp_path):
    # the predictor serves sklearn-iris only: asked about another model it answers 404
    pid, url = _explainer(tmp_path, iris_runtime.url, model="no-such-model")
    try:
        answer = _explain(url, [VERSICOLOR], model="no-such-model")
    finally:
        process.terminate_group(pid, 5)
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error.startswith(f"predictor {MODEL}-predictor.kserve-test answered 404 to :predict"), error
    assert "no-such-model" in error
