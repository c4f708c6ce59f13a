"""``python -m tests.scenario_harness.art_explainer``: what KServe's ART explainer answers to tabular rows.

Stands in for the ``spec.explainer.art`` container (image ``kserve/art-explainer``) so the harness behaves
like upstream for what kslab sends it. Upstream (kserve/kserve@v0.20.0:python/artexplainer/artserver/
model.py, ``ARTModel.explain``) reads ``instances[0]`` as an image and ``instances[1]`` as its label,
wraps the input in ART's ``BlackBoxClassifierNeuralNetwork``, first asks it for a prediction (its
``_predict`` reshapes the rows and calls the predictor from inside the running event loop), then runs
``SquareAttack``, which only takes 4-D image batches (Trusted-AI/adversarial-robustness-toolbox:
art/attacks/evasion/square_attack.py). Which of these steps fails first on iris rows depends on the ART
and asyncio versions in the image; every failure there is re-raised as ``Exception("Failed to explain
...")``, and kserve's generic exception handler answers it 500 with ``{"error": "Exception : Failed to
explain ..."}``. That wrapper and the status are what this stand-in reproduces (the reason it gives is
SquareAttack's, one of the possible ones), and what tests may pin; fewer than two instances fail
before that with ``IndexError`` (500, ``{"error": "IndexError : list index out of range"}``). Like the
upstream server (``artserver/__main__.py``) it refuses to start with an adversary type other than
SquareAttack.

For iris rows that is all there is to answer: this stand-in never explains anything. An image batch
(4-D) is answered 501, as out of the harness's scope, rather than with a made-up attack.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kslab.local.server import LOOPBACK, _quiet_per_request_logs, bind_loopback
from kslab.util.atomic import write_text

NOT_IMAGE = "Unrecognized input dimension. Attack can only be applied to image data."


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.scenario_harness.art_explainer")
    parser.add_argument("--model_name", required=True)
    parser.add_argument("--adversary_type", default="SquareAttack")
    parser.add_argument("--port-file", type=Path, required=True)
    args, _ = parser.parse_known_args(argv)  # --predictor_host, --http_port, --nb_classes ...: as upstream
    return args


def ndim(value: Any) -> int:
    """The number of dimensions numpy would give a nested list (ragged lists count as far as they nest)."""
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


def build_model(name: str) -> Any:
    import kserve

    class ARTStandIn(kserve.Model):
        def __init__(self) -> None:
            super().__init__(name)
            self.ready = True

        async def explain(self, payload: dict, headers: dict[str, str] | None = None) -> dict:
            image = payload["instances"][0]
            _label = payload["instances"][1]
            if ndim(image) != 4:
                raise Exception(f"Failed to explain {NOT_IMAGE}")
            raise NotImplementedError("the scenario harness does not run ART's SquareAttack on images")

    return ARTStandIn()


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.adversary_type.lower() != "squareattack":
        print(f"Invalid adversary type: {args.adversary_type}", file=sys.stderr)
        return 1
    sock = bind_loopback(0)
    sys.argv = sys.argv[:1]
    from kserve import ModelServer
    from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
    from kserve.protocol.rest.server import RESTServer

    port = sock.getsockname()[1]
    server = ModelServer(http_port=port, enable_grpc=False, enable_latency_logging=False, grace_period=2)
    server.register_model(build_model(args.model_name))
    _quiet_per_request_logs()
    rest = RESTServer(FASTAPI_APP_IMPORT_STRING, server.dataplane, server.model_repository_extension, port,
                      grace_period=2)
    write_text(args.port_file, f"{port}\n")
    print(f"ART stand-in {args.model_name} on http://{LOOPBACK}:{port}", flush=True)
    rest.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
