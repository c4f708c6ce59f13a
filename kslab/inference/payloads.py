"""Request bodies and answers of the two protocols, and parsing of user-supplied instances."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from kslab.errors import UsageError

V2_INPUT_NAME = "input-0"
V2_DATATYPE = "FP32"

Instances = list[list[float]]


def v1_body(instances: Sequence[Sequence[float]]) -> dict[str, Any]:
    return {"instances": [list(row) for row in instances]}


def v2_body(instances: Sequence[Sequence[float]]) -> dict[str, Any]:
    rows = [list(row) for row in instances]
    return {"inputs": [{"name": V2_INPUT_NAME, "shape": [len(rows), len(rows[0]) if rows else 0],
                        "datatype": V2_DATATYPE, "data": rows}]}


def predict_path(protocol: str, model_name: str) -> str:
    """V1 ``/v1/models/NAME:predict`` or V2 ``/v2/models/NAME/infer``."""
    return f"/v1/models/{model_name}:predict" if protocol == "v1" else f"/v2/models/{model_name}/infer"


def parse_instances(text: str, features: int | None = None) -> Instances:
    """``'[[6.8, 2.8, 4.8, 1.4]]'`` (or one flat row) → rows of numbers; UsageError saying what is wrong."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--instances is not JSON: {exc}", "example: --instances '[[6.8, 2.8, 4.8, 1.4]]'") from None
    if isinstance(value, list) and value and all(_is_number(v) for v in value):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        raise UsageError("--instances must be a non-empty JSON list of rows",
                         "example: --instances '[[6.8, 2.8, 4.8, 1.4], [5.1, 3.5, 1.4, 0.2]]'")
    for index, row in enumerate(value):
        if not row or not all(_is_number(v) for v in row):
            raise UsageError(f"--instances row {index} must be a list of numbers, got {json.dumps(row)}")
        if features is not None and len(row) != features:
            raise UsageError(f"--instances row {index} has {len(row)} values, the model takes {features}",
                             "send one value per feature (see manifests/models/catalog.yaml)")
    return [[float(v) for v in row] for row in value]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def error_text(body: Any, text: str) -> str:
    """The server's own message: KServe's {"error": ...}, FastAPI's {"detail": [...]}, or the raw text."""
    if isinstance(body, dict):
        if "error" in body:
            return str(body["error"])
        detail = body.get("detail")
        if isinstance(detail, list):
            return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
        if detail is not None:
            return str(detail)
    return text.strip()[:500]


def predictions(protocol: str, body: Any) -> list[Any] | None:
    """V1 ``predictions`` or V2 ``outputs[0].data`` (the only fields every runtime fills alike)."""
    if not isinstance(body, dict):
        return None
    if protocol == "v1":
        value = body.get("predictions")
        return value if isinstance(value, list) else None
    outputs = body.get("outputs")
    if isinstance(outputs, list) and outputs and isinstance(outputs[0], dict):
        data = outputs[0].get("data")
        return data if isinstance(data, list) else None
    return None
