"""The inference client's transport: retries (503 and connection errors only), headers, timeouts, errors.

A tiny http.server stands in for a flaky gateway; it tests the client's HTTP behaviour, not inference.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kslab.errors import CheckFailed, UsageError, WaitTimeout
from kslab.inference.client import InferenceClient
from kslab.inference.payloads import error_text, parse_instances, v2_body
from kslab.models.endpoint import Endpoint


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next (status, body, delay_s) of ``script`` (the last one repeats)."""

    def __init__(self, script: list[tuple[int, dict, float]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.seen: list[dict] = []


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.seen.append({"path": self.path, "host": self.headers.get("Host"),
                                 "body": json.loads(self.rfile.read(length) or b"null")})
        status, body, delay = self.server.script[min(len(self.server.seen), len(self.server.script)) - 1]
        time.sleep(delay)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Callable[..., tuple[Scripted, Endpoint]]]:
    servers: list[Scripted] = []

    def start(*script: tuple[int, dict, float]) -> tuple[Scripted, Endpoint]:
        server = Scripted(list(script))
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server, Endpoint(f"http://127.0.0.1:{server.server_address[1]}", "sklearn-iris",
                                host="sklearn-iris.kserve-test.example.com", via="port-forward")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


OK = (200, {"predictions": [1]}, 0.0)
UNAVAILABLE = (503, {"error": "Model with name sklearn-iris is not ready."}, 0.0)


def test_retries_a_503_then_succeeds(scripted):
    server, endpoint = scripted(UNAVAILABLE, OK)
    with InferenceClient(endpoint, backoff_s=0.01) as client:
        result = client.predict([[6.8, 2.8, 4.8, 1.4]])
    assert (result.ok, result.status_code, result.predictions, result.attempts) == (True, 200, [1], 2)
    assert len(server.seen) == 2
    assert server.seen[0]["path"] == "/v1/models/sklearn-iris:predict"
    assert server.seen[0]["body"] == {"instances": [[6.8, 2.8, 4.8, 1.4]]}
    assert {s["host"] for s in server.seen} == {"sklearn-iris.kserve-test.example.com"}


def test_a_lasting_503_comes_back_as_a_result_after_the_last_attempt(scripted):
    server, endpoint = scripted(UNAVAILABLE)
    with InferenceClient(endpoint, attempts=3, backoff_s=0.01) as client:
        result = client.infer([[6.8, 2.8, 4.8, 1.4]])
    assert (result.ok, result.status_code, result.attempts, len(server.seen)) == (False, 503, 3, 3)
    assert result.error == "Model with name sklearn-iris is not ready." and result.predictions is None
    assert server.seen[0]["path"] == "/v2/models/sklearn-iris/infer"


def test_other_errors_are_not_retried(scripted):
    server, endpoint = scripted((500, {"error": "boom"}, 0.0), OK)
    with InferenceClient(endpoint, backoff_s=0.01) as client:
        result = client.predict([[1, 2, 3, 4]])
    assert (result.status_code, result.error, len(server.seen)) == (500, "boom", 1)


def test_connection_refused_is_retried_then_a_one_line_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = Endpoint(f"http://127.0.0.1:{port}", "sklearn-iris", via="local")
    with InferenceClient(endpoint, attempts=2, backoff_s=0.01) as client, pytest.raises(CheckFailed) as caught:
        client.predict([[1, 2, 3, 4]])
    assert caught.value.message == (f"POST http://127.0.0.1:{port}/v1/models/sklearn-iris:predict: cannot connect "
                                    "after 2 attempts (connection refused)")
    assert "kslab deploy sklearn-iris --provider local" in caught.value.hint


def test_a_slow_answer_is_a_timeout_naming_the_request(scripted):
    _, endpoint = scripted((200, {"predictions": [1]}, 1.0))
    with InferenceClient(endpoint, timeout_s=0.2) as client, pytest.raises(WaitTimeout, match="no answer within"):
        client.predict([[1, 2, 3, 4]])


def test_v2_body_is_one_fp32_tensor():
    assert v2_body([[1, 2, 3, 4], [5, 6, 7, 8]]) == {"inputs": [
        {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [[1, 2, 3, 4], [5, 6, 7, 8]]}]}


def test_parse_instances():
    assert parse_instances("[6.8, 2.8, 4.8, 1.4]", 4) == [[6.8, 2.8, 4.8, 1.4]]
    assert parse_instances("[[1, 2], [3, 4]]") == [[1.0, 2.0], [3.0, 4.0]]
    for bad in ("", "{}", "[]", "[[]]", "[[true, 1]]", "[[1, NaN]]", '"x"'):
        with pytest.raises(UsageError):
            parse_instances(bad)


def test_error_text_reads_kserve_and_fastapi_errors():
    assert error_text({"error": "X has 3 features"}, "") == "X has 3 features"
    assert error_text({"detail": [{"msg": "Field required"}, {"msg": "bad bytes"}]}, "") == "Field required; bad bytes"
    assert error_text(None, "  upstream connect error  ") == "upstream connect error"
