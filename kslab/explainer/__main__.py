"""``python -m kslab.explainer --model_name=NAME --predictor_host=HOST --http_port=8080``: kslab's explainer.

Takes the arguments KServe gives an explainer container (kserve/kserve@v0.20.0:
pkg/apis/serving/v1beta1/explainer.go). Like kslab.local.server it binds its socket itself and hands it
to kserve's RESTServer (no gRPC server): on ``--bind_address`` (0.0.0.0 in a container, as KServe's
runtimes listen; tests pass 127.0.0.1) and ``--http_port`` (0: any free port, written to ``--port_file``).
``--predictor_url`` sends the predictor requests elsewhere while ``--predictor_host`` stays their Host
header (the test harness's gateway router); by default they go to ``http://<predictor_host>``.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

from kslab.util.atomic import write_text

ANY_ADDRESS = "0.0.0.0"  # a container's server must be reachable from its pod IP
GRACE_PERIOD_S = 5


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m kslab.explainer", allow_abbrev=False)
    parser.add_argument("--model_name", required=True, help="served as /v1/models/NAME:explain; also the "
                                                            "predictor's model name")
    parser.add_argument("--predictor_host", required=True, help="the predictor, e.g. sklearn-iris-predictor.NS")
    parser.add_argument("--http_port", type=int, default=8080, help="0: any free port (see --port_file)")
    parser.add_argument("--bind_address", default=ANY_ADDRESS, help="127.0.0.1 outside a container")
    parser.add_argument("--predictor_url", help="where predictor requests go (default http://PREDICTOR_HOST)")
    parser.add_argument("--predictor_request_timeout_seconds", type=float, default=60.0)
    parser.add_argument("--port_file", "--port-file", type=Path, help="where to write the bound port")
    return parser.parse_known_args(argv)


def bind(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace, sock: socket.socket) -> None:
    """Serve the explainer on ``sock`` with kserve's RESTServer until SIGTERM/SIGINT."""
    sys.argv = sys.argv[:1]  # kserve.model_server parses argv at import; these flags are not all its flags
    from kserve import ModelServer
    from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
    from kserve.model_server import app
    from kserve.protocol.rest.server import RESTServer

    from kslab.explainer.model import PredictorClient, PredictorError, ShapleyExplainer, predictor_error_handler

    url = args.predictor_url or f"http://{args.predictor_host}"
    predictor = PredictorClient(args.model_name, url, args.predictor_host, args.predictor_request_timeout_seconds)
    port = sock.getsockname()[1]
    server = ModelServer(http_port=port, enable_grpc=False, enable_latency_logging=False,
                         grace_period=GRACE_PERIOD_S)
    server.register_model(ShapleyExplainer(args.model_name, predictor))
    app.add_exception_handler(PredictorError, predictor_error_handler)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    rest = RESTServer(FASTAPI_APP_IMPORT_STRING, server.dataplane, server.model_repository_extension, port,
                      grace_period=GRACE_PERIOD_S)
    logging.getLogger("kserve").info("kslab explainer %s on http://%s:%d, predictor %s (Host %s)",
                                     args.model_name, args.bind_address, port, url, args.predictor_host)
    rest.run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    args, ignored = parse(argv)
    if ignored:
        print(f"kslab.explainer: ignoring arguments {' '.join(ignored)}", file=sys.stderr)
    try:
        sock = bind(args.bind_address, args.http_port)
    except OSError as exc:
        print(f"kslab.explainer: cannot listen on {args.bind_address}:{args.http_port}: {exc.strerror}",
              file=sys.stderr)
        return 3
    if args.port_file is not None:
        write_text(args.port_file, f"{sock.getsockname()[1]}\n")
    serve(args, sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
