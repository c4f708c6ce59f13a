"""Exact interventional Shapley values of the predicted class, from the predictor's answers alone.

For an instance x with d features and background rows b_1..b_n, every coalition S of features gives n
hybrid rows: x's values on S, the background row's values elsewhere. The predictor answers them all (one
request); v(S) is the mean, over the background, of the score of x's own predicted class c:

* predictions that are class labels (KServe's sklearn server without PREDICT_PROBA): 1 when the hybrid is
  predicted c, else 0 — v(S) is the share of the background that x's values on S pull to class c;
* predictions that are probability lists: the probability of c (c = the argmax for x).

A feature's attribution is its Shapley value over the 2^d coalitions, so the attributions add up to
v(all) - v(none): how much more x's own values make class c than the background does. Plain Python on
purpose (no numpy): d is 4 for iris, so 16 coalitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import factorial
from typing import Any

Row = list[float]
MAX_FEATURES = 10  # 2^d coalitions per instance: keep the predictor request bounded


@dataclass(frozen=True)
class Attribution:
    """One instance's explanation."""

    instance: Row
    prediction: Any  # the predictor's answer for the instance itself (a label or a probability list)
    attributions: dict[str, float]
    top_features: list[str]
    base_value: float  # v(none): the score of the predicted class over the background alone

    def to_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "prediction": self.prediction, "attributions": self.attributions,
                "top_features": self.top_features, "base_value": self.base_value}


def coalition_rows(instance: Sequence[float], background: Sequence[Sequence[float]]) -> list[Row]:
    """The rows to predict for ``instance``: for coalition mask m = 0 .. 2^d - 1 (bit j set: feature j comes
    from the instance), one hybrid per background row, background rows innermost."""
    d = len(instance)
    return [[float(instance[j]) if mask >> j & 1 else float(row[j]) for j in range(d)]
            for mask in range(1 << d) for row in background]


def _score(prediction: Any, target: Any) -> float:
    if isinstance(prediction, list):
        return float(prediction[target])
    return 1.0 if prediction == target else 0.0


def _target(prediction: Any) -> Any:
    """The class whose score is explained: the label itself, or the most probable class's index."""
    if isinstance(prediction, list):
        return max(range(len(prediction)), key=lambda i: float(prediction[i]))
    return prediction


def shapley_values(values: Sequence[float], d: int) -> list[float]:
    """Shapley values of the d players from the value of every coalition (``values[mask]``)."""
    weights = [factorial(k) * factorial(d - k - 1) / factorial(d) for k in range(d)]
    phi = [0.0] * d
    for mask in range(1 << d):
        size = bin(mask).count("1")
        for j in range(d):
            if not mask >> j & 1:
                phi[j] += weights[size] * (values[mask | 1 << j] - values[mask])
    return phi


def attribute(instance: Sequence[float], predictions: Sequence[Any], background_size: int,
              feature_names: Sequence[str]) -> Attribution:
    """The explanation of ``instance`` from the predictions of its ``coalition_rows`` (same order)."""
    d = len(instance)
    if len(predictions) != (1 << d) * background_size:
        raise ValueError(f"expected {(1 << d) * background_size} predictions, got {len(predictions)}")
    own = predictions[((1 << d) - 1) * background_size]  # the all-features coalition is the instance itself
    target = _target(own)
    values = [sum(_score(p, target) for p in predictions[m * background_size:(m + 1) * background_size])
              / background_size for m in range(1 << d)]
    phi = shapley_values(values, d)
    names = list(feature_names)
    order = sorted(range(d), key=lambda j: (-phi[j], j))
    return Attribution(instance=[float(v) for v in instance], prediction=own,
                       attributions={names[j]: round(phi[j], 4) for j in range(d)},
                       top_features=[names[j] for j in order], base_value=round(values[0], 4))
