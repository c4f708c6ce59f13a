"""``python -m tests.scenario_harness.explainer_server``: a real KServe explainer for the scenario harness.

What ``spec.explainer.containers`` runs on a cluster (facts §9): a KServe model server whose ``Model``
implements ``explain()`` and asks the predictor (``--predictor_host``) for predictions. Here the
explanation is per-feature sensitivity: each feature of each instance is replaced by its smallest value in
the iris data and the predictor is asked again; a feature's contribution is the share of instances whose
predicted class changed. Every prediction comes from the real predictor over HTTP (through the harness
router, with the predictor host as Host header), never from this process.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kslab.local.server import LOOPBACK, _quiet_per_request_logs, bind_loopback
from kslab.util.atomic import write_text

# Per-feature minimums of sklearn's bundled iris data (sepal length/width, petal length/width).
BASELINE = (4.3, 2.0, 1.0, 0.1)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.scenario_harness.explainer_server")
    parser.add_argument("--name", required=True)
    parser.add_argument("--predictor-url", required=True, help="where predictor requests go (the harness router)")
    parser.add_argument("--predictor-host", required=True, help="Host header: the --predictor_host of the container")
    parser.add_argument("--port-file", type=Path, required=True)
    return parser.parse_args(argv)


def build_model(name: str, predictor_url: str, predictor_host: str) -> Any:
    import httpx
    import kserve
    from kserve.errors import InferenceError

    class SensitivityExplainer(kserve.Model):
        def __init__(self) -> None:
            super().__init__(name)
            self.ready = True

        async def _predict(self, client: Any, rows: list[list[float]]) -> list[Any]:
            answer = await client.post(f"{predictor_url}/v1/models/{name}:predict", json={"instances": rows},
                                       headers={"Host": predictor_host})
            if answer.status_code != 200:
                raise InferenceError(f"predictor answered {answer.status_code}: {answer.text[:200]}")
            return list(answer.json()["predictions"])

        async def explain(self, payload: dict, headers: dict[str, str] | None = None) -> dict:
            rows = [[float(v) for v in row] for row in payload.get("instances") or payload.get("inputs") or []]
            if not rows:
                raise InferenceError("explain needs 'instances'")
            async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
                base = await self._predict(client, rows)
                contributions = []
                for feature in range(len(rows[0])):
                    perturbed = [[BASELINE[i] if i == feature else v for i, v in enumerate(row)] for row in rows]
                    changed = await self._predict(client, perturbed)
                    contributions.append(sum(a != b for a, b in zip(base, changed, strict=True)) / len(rows))
            return {"explanations": {"method": "feature-baseline-sensitivity", "baseline": list(BASELINE),
                                     "predictions": base, "feature_contributions": contributions}}

    return SensitivityExplainer()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sock = bind_loopback(0)
    sys.argv = sys.argv[:1]
    from kserve import ModelServer
    from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
    from kserve.protocol.rest.server import RESTServer

    model = build_model(args.name, args.predictor_url.rstrip("/"), args.predictor_host)
    port = sock.getsockname()[1]
    server = ModelServer(http_port=port, enable_grpc=False, enable_latency_logging=False, grace_period=2)
    server.register_model(model)
    _quiet_per_request_logs()
    rest = RESTServer(FASTAPI_APP_IMPORT_STRING, server.dataplane, server.model_repository_extension, port,
                      grace_period=2)
    write_text(args.port_file, f"{port}\n")
    print(f"explainer {args.name} on http://{LOOPBACK}:{port}", flush=True)
    rest.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
