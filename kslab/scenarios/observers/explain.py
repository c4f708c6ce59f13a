"""``explain``: POST ``/v1/models/<isvc>:explain`` through the managed endpoint.

Routes: kserve/kserve@v0.20.0:python/kserve/kserve/protocol/rest/v1_endpoints.py.

In Knative mode KServe's top-level VirtualService sends ``:explain`` on the InferenceService host to the
explainer component; a predictor-only InferenceService answers 501 ("Could not find explainer_host.")
from the model server itself.

``with.expect_top`` (feature names) checks kslab's explainer's answer (kslab/explainer/model.py): every
explanation's first ``len(expect_top)`` ``top_features`` must be those features, in any order. The
observation has ``top_features`` (one list per explanation), ``top_ok`` and ``top_problems``.
"""

from __future__ import annotations

import json
from typing import Any

from kslab.errors import UsageError
from kslab.inference import payloads
from kslab.inference.client import InferenceClient
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.observers.common import endpoint, instances, seconds

EXCERPT_CHARS = 400


def observe_explain(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    rows = instances(options)
    expected_top = _expected_top(options)  # a malformed with: fails before any request is sent
    timeout = seconds(options, "timeout", float(ctx.settings.timeouts.request))
    with endpoint(ctx) as target, InferenceClient(target, timeout_s=timeout) as client:
        ctx.mark("explain: request sent")
        result = client.call("POST", f"/v1/models/{target.model_name}:explain", operation="explain", protocol="v1",
                             json_body=payloads.v1_body(rows))
    text = result.text if isinstance(result.text, str) else json.dumps(result.body)
    explanation = result.body if result.ok else None
    top, problems = top_features(explanation, expected_top)
    return {"status": result.status_code, "ok": result.ok, "latency_ms": round(result.latency_ms, 3),
            "body_excerpt": text[:EXCERPT_CHARS], "explanation": explanation, "error": result.error,
            "url": result.url, "top_features": top, "top_ok": not problems, "top_problems": "; ".join(problems)}


def _expected_top(options: dict[str, Any]) -> list[str]:
    wanted = options.get("expect_top") or []
    if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
        raise UsageError("with.expect_top must be a list of feature names", "example: [petal_length, petal_width]")
    return wanted


def top_features(explanation: Any, expected: list[str]) -> tuple[list[list[str]], list[str]]:
    """Each explanation's top_features, and what contradicts ``expected`` (nothing when it is empty)."""
    items = explanation.get("explanations") if isinstance(explanation, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return [], ([f"no list of explanations to read top_features from (got {type(items).__name__})"]
                    if expected else [])
    top = [[str(f) for f in item.get("top_features") or []] for item in items]
    problems = []
    for index, features in enumerate(top):
        head = features[:len(expected)]
        if sorted(head) != sorted(expected):
            problems.append(f"explanation {index}: top {len(expected)} features are {head}, expected {expected} "
                            f"(attributions {items[index].get('attributions')})")
    if expected and not top:
        problems.append("the answer has no explanations")
    return top, problems
