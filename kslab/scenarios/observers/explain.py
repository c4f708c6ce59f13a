"""``explain``: POST ``/v1/models/<isvc>:explain`` through the managed endpoint (facts §6.1, §9).

In Knative mode KServe's top-level VirtualService sends ``:explain`` on the InferenceService host to the
explainer component; a predictor-only InferenceService answers 501 ("Could not find explainer_host.")
from the model server itself.
"""

from __future__ import annotations

import json
from typing import Any

from kslab.inference import payloads
from kslab.inference.client import InferenceClient
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import endpoint, instances, seconds

EXCERPT_CHARS = 400


def observe_explain(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    rows = instances(options)
    timeout = seconds(options, "timeout", float(ctx.settings.timeouts.request))
    with endpoint(ctx) as target, InferenceClient(target, timeout_s=timeout) as client:
        ctx.mark("explain: request sent")
        result = client.call("POST", f"/v1/models/{target.model_name}:explain", operation="explain", protocol="v1",
                             json_body=payloads.v1_body(rows))
    text = result.text if isinstance(result.text, str) else json.dumps(result.body)
    return {"status": result.status_code, "ok": result.ok, "latency_ms": round(result.latency_ms, 3),
            "body_excerpt": text[:EXCERPT_CHARS], "explanation": result.body if result.ok else None,
            "error": result.error, "url": result.url}
