"""``python -m kslab.local.server``: KServe's own REST server for one model, listening on 127.0.0.1 only.

``kserve.ModelServer`` always binds 0.0.0.0 and has no bind-address option. Its REST server
(``kserve.protocol.rest.server.RESTServer``) accepts already-open sockets in ``run(sockets=...)`` (uvicorn's
supported hand-over), so this module binds a socket on 127.0.0.1 itself, writes the port it got to
``--port-file`` *before* the slow ``import kserve``, and lets ModelServer wire the data plane and model
repository as it does on the cluster. Every route and handler is kserve's; no gRPC server is started.

Per-request logging (kserve's latency trace lines and uvicorn's access log) is switched off; startup
messages and errors still go to stderr (the log file kslab.local.runtime opens).
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import warnings
from pathlib import Path

from kslab.util.atomic import write_text

LOOPBACK = "127.0.0.1"
GRACE_PERIOD_S = 5


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kslab.local.server", allow_abbrev=False)
    parser.add_argument("--name", required=True, help="model name in /v1/models/NAME and /v2/models/NAME")
    parser.add_argument("--model-dir", required=True, type=Path, help="directory holding exactly one model.joblib")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--port-file", type=Path, help="where to write the bound port once listening is possible")
    return parser.parse_args(argv)


def bind_loopback(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.set_inheritable(True)
    return sock


def _quiet_per_request_logs() -> None:
    logging.getLogger("kserve.trace").setLevel(logging.WARNING)  # TimingMiddleware + latency lines
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    try:  # fastapi >= 0.120 warns about ORJSONResponse on every response
        from fastapi.exceptions import FastAPIDeprecationWarning

        warnings.filterwarnings("ignore", category=FastAPIDeprecationWarning)
    except ImportError:
        pass


def serve(name: str, model_dir: Path, sock: socket.socket) -> None:
    """Load the model and serve it with kserve's RESTServer on ``sock`` until SIGTERM/SIGINT."""
    sys.argv = sys.argv[:1]  # kserve.model_server parses argv at import; kslab's flags are not its flags
    from kserve import ModelServer
    from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
    from kserve.protocol.rest.server import RESTServer

    from kslab.local.model import JoblibModel

    model = JoblibModel(name, model_dir)
    model.load()
    port = sock.getsockname()[1]
    server = ModelServer(http_port=port, enable_grpc=False, enable_latency_logging=False,
                         grace_period=GRACE_PERIOD_S)
    server.register_model(model)
    _quiet_per_request_logs()
    rest = RESTServer(FASTAPI_APP_IMPORT_STRING, server.dataplane, server.model_repository_extension, port,
                      grace_period=GRACE_PERIOD_S)
    logging.getLogger("kserve").info("kslab: serving %s from %s on http://%s:%d", name, model_dir, LOOPBACK, port)
    rest.run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        sock = bind_loopback(args.port)
    except OSError as exc:
        print(f"kslab.local.server: cannot listen on {LOOPBACK}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 3
    if args.port_file is not None:
        write_text(args.port_file, f"{sock.getsockname()[1]}\n")
    serve(args.name, args.model_dir, sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
