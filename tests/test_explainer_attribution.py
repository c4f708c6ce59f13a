"""kslab's explainer, the arithmetic (kslab/explainer/shapley.py) and its embedded iris background.

The explainer against a real predictor is tested in tests/dataplane/test_explainer_runtime.py.
"""

from __future__ import annotations

import pytest

from kslab.explainer.reference import BACKGROUND, FEATURE_NAMES
from kslab.explainer.shapley import attribute, coalition_rows, shapley_values
from kslab.scenarios.requirements import template_scope


def test_background_is_every_fifth_row_of_each_iris_class():
    datasets = pytest.importorskip("sklearn.datasets")
    features, labels = datasets.load_iris(return_X_y=True)
    rows = [tuple(round(float(v), 1) for v in features[i]) for c in range(3)
            for i in [j for j in range(len(labels)) if labels[j] == c][::5]]
    assert tuple(rows) == BACKGROUND
    assert [n.replace(" (cm)", "").replace(" ", "_") for n in datasets.load_iris().feature_names] == \
        list(FEATURE_NAMES)


def test_coalition_rows_take_the_instance_on_the_coalition_and_the_background_elsewhere():
    rows = coalition_rows([1.0, 2.0], [[10.0, 20.0], [30.0, 40.0]])
    assert rows == [[10.0, 20.0], [30.0, 40.0],  # mask 0: background only
                    [1.0, 20.0], [1.0, 40.0],  # mask 1: feature 0 from the instance
                    [10.0, 2.0], [30.0, 2.0],  # mask 2: feature 1
                    [1.0, 2.0], [1.0, 2.0]]  # mask 3: the instance itself


def test_shapley_values_of_a_known_game():
    # v(S) = 1 when both players are in S: each gets half; a dummy third player gets nothing
    values = [1.0 if mask & 0b011 == 0b011 else 0.0 for mask in range(8)]
    assert shapley_values(values, 3) == pytest.approx([0.5, 0.5, 0.0])
    # additive game: each player gets exactly its own weight
    weights = [0.1, 0.2, 0.3, 0.4]
    additive = [sum(w for j, w in enumerate(weights) if mask >> j & 1) for mask in range(16)]
    assert shapley_values(additive, 4) == pytest.approx(weights)


def _predict_by_petal_length(rows):
    return [0 if r[2] < 2.5 else (1 if r[2] < 5.0 else 2) for r in rows]


def test_a_model_that_reads_only_petal_length_is_explained_by_petal_length_alone():
    instance = [6.8, 2.8, 4.8, 1.4]
    explained = attribute(instance, _predict_by_petal_length(coalition_rows(instance, BACKGROUND)),
                          len(BACKGROUND), FEATURE_NAMES)
    assert explained.prediction == 1
    assert explained.top_features[0] == "petal_length"
    assert {k: v for k, v in explained.attributions.items() if k != "petal_length"} == \
        {"sepal_length": 0.0, "sepal_width": 0.0, "petal_width": 0.0}
    # efficiency: the attributions add up to v(all) - v(none); 10 of the 30 background rows are versicolor
    assert explained.base_value == pytest.approx(10 / 30, abs=1e-4)
    assert sum(explained.attributions.values()) == pytest.approx(1 - 10 / 30, abs=1e-3)


def test_probability_predictions_explain_the_most_probable_class():
    instance = [6.3, 3.3, 6.0, 2.5]
    rows = coalition_rows(instance, BACKGROUND)
    probabilities = [[0.0, 0.0, 1.0] if r[3] > 1.7 else [0.0, 0.8, 0.2] for r in rows]  # petal width decides
    explained = attribute(instance, probabilities, len(BACKGROUND), FEATURE_NAMES)
    assert explained.prediction == [0.0, 0.0, 1.0]
    # 11 background rows have petal width > 1.7 (all 10 virginica, one versicolor): v(none) = (11 + 19 * 0.2) / 30
    assert explained.base_value == pytest.approx((11 + 19 * 0.2) / 30, abs=1e-4)
    assert explained.attributions == {"sepal_length": 0.0, "sepal_width": 0.0, "petal_length": 0.0,
                                      "petal_width": pytest.approx(1 - (11 + 19 * 0.2) / 30, abs=1e-4)}
    assert explained.top_features[0] == "petal_width"


def test_the_wrong_number_of_predictions_is_an_error():
    with pytest.raises(ValueError, match="expected 480 predictions, got 3"):
        attribute([1.0, 2.0, 3.0, 4.0], [0, 1, 2], len(BACKGROUND), FEATURE_NAMES)


def test_the_image_is_named_once_and_scenarios_see_it():
    from kslab import __version__
    from kslab.config.model import Settings

    assert template_scope(Settings())["explainer_image"] == f"kslab/explainer:{__version__}"
