"""The request a load run repeats: an Endpoint's predict/infer route with a V1/V2 body, encoded once."""

from __future__ import annotations

import json
from collections.abc import Sequence

from kslab.inference.payloads import predict_path, v1_body, v2_body
from kslab.load.http import Target
from kslab.models.endpoint import Endpoint


def sample_body(protocol: str, instances: Sequence[Sequence[float]]) -> bytes:
    """The V1 or V2 JSON body for ``instances``, compact, as bytes."""
    body = v1_body(instances) if protocol == "v1" else v2_body(instances)
    return json.dumps(body, separators=(",", ":")).encode()


def endpoint_target(endpoint: Endpoint, protocol: str, body: bytes) -> Target:
    """POST ``body`` to the endpoint's predict (V1) or infer (V2) route with its Host header."""
    return Target.build(endpoint.base_url, predict_path(protocol, endpoint.model_name), body, endpoint.host)
