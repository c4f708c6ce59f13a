"""The KServe ``Model`` whose ``explain()`` asks the predictor over the V1 protocol and attributes its answer.

``POST /v1/models/<name>:explain`` with ``{"instances": [[...4 iris features...], ...]}`` sends every
instance's coalition rows (kslab/explainer/shapley.py) to ``POST <predictor>/v1/models/<name>:predict`` in
one request and answers::

    {"explanations": [{"instance": [...], "prediction": 1, "attributions": {"petal_length": 0.5, ...},
                       "top_features": ["petal_length", "petal_width", ...], "base_value": 0.33}],
     "method": "interventional-shapley", "feature_names": [...], "background_rows": 30}

A predictor that cannot be reached or does not answer 200 with ``predictions`` makes the explain answer
502 with ``{"error": ...}`` (KServe's error body) naming the predictor and what it said.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import kserve
from fastapi.responses import JSONResponse
from kserve.errors import InvalidInput

from kslab.explainer.reference import BACKGROUND, FEATURE_NAMES
from kslab.explainer.shapley import attribute, coalition_rows

METHOD = "interventional-shapley"
MAX_INSTANCES = 20
ERROR_EXCERPT = 300


class PredictorError(Exception):
    """The predictor did not give predictions: answered 502 (Bad Gateway) by ``predictor_error_handler``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def predictor_error_handler(_: Any, exc: PredictorError) -> JSONResponse:
    return JSONResponse(status_code=502, content={"error": exc.message})


def _rows(payload: Any) -> list[list[float]]:
    if isinstance(payload, bytes | str):  # kserve hands over the raw body when the content type is not JSON
        try:
            payload = json.loads(payload)
        except ValueError:
            raise InvalidInput("explain needs a JSON body") from None
    rows = payload.get("instances") if isinstance(payload, dict) else None
    if not isinstance(rows, list) or not rows:
        raise InvalidInput('explain needs {"instances": [[sepal_length, sepal_width, petal_length, petal_width], '
                           "...]}")
    if len(rows) > MAX_INSTANCES:
        raise InvalidInput(f"at most {MAX_INSTANCES} instances per explain request, got {len(rows)}")
    width = len(FEATURE_NAMES)
    for row in rows:
        if not isinstance(row, list) or len(row) != width or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in row):
            raise InvalidInput(f"each instance must be {width} numbers ({', '.join(FEATURE_NAMES)}), got {row!r}")
    return [[float(v) for v in row] for row in rows]


class PredictorClient:
    """V1 ``:predict`` calls to the predictor: ``url`` is where requests go, ``host`` the Host header (on a
    cluster both are the ``--predictor_host``; the test harness sends them through its gateway router)."""

    def __init__(self, name: str, url: str, host: str, timeout_s: float) -> None:
        self.name, self.url, self.host, self.timeout_s = name, url.rstrip("/"), host, timeout_s

    @property
    def endpoint(self) -> str:
        return f"{self.url}/v1/models/{self.name}:predict"

    async def predict(self, rows: list[list[float]]) -> list[Any]:
        where = f"predictor {self.host}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as client:
                answer = await client.post(self.endpoint, json={"instances": rows}, headers={"Host": self.host})
        except httpx.HTTPError as exc:
            raise PredictorError(f"{where} did not answer POST {self.endpoint}: {type(exc).__name__}: {exc}") \
                from None
        if answer.status_code != 200:
            raise PredictorError(f"{where} answered {answer.status_code} to :predict: "
                                 f"{answer.text[:ERROR_EXCERPT]}")
        try:
            predictions = answer.json()["predictions"]
        except (ValueError, KeyError, TypeError):
            raise PredictorError(f"{where} answered 200 without a V1 'predictions' list: "
                                 f"{answer.text[:ERROR_EXCERPT]}") from None
        if not isinstance(predictions, list) or len(predictions) != len(rows):
            raise PredictorError(f"{where} answered {len(predictions) if isinstance(predictions, list) else 0} "
                                 f"predictions for {len(rows)} rows")
        return predictions


class ShapleyExplainer(kserve.Model):
    """Explains the iris predictions of ``predictor`` against the embedded background (reference.py)."""

    def __init__(self, name: str, predictor: PredictorClient,
                 background: Sequence[Sequence[float]] = BACKGROUND,
                 feature_names: Sequence[str] = FEATURE_NAMES) -> None:
        super().__init__(name)
        self.predictor = predictor
        self.background = [list(row) for row in background]
        self.feature_names = list(feature_names)
        self.ready = True

    async def explain(self, payload: dict, headers: dict[str, str] | None = None) -> dict:
        instances = _rows(payload)
        per_instance = [coalition_rows(row, self.background) for row in instances]
        predictions = await self.predictor.predict([r for rows in per_instance for r in rows])
        size = len(per_instance[0])
        explanations = [attribute(row, predictions[i * size:(i + 1) * size], len(self.background),
                                  self.feature_names).to_dict() for i, row in enumerate(instances)]
        return {"explanations": explanations, "method": METHOD, "feature_names": self.feature_names,
                "background_rows": len(self.background)}
