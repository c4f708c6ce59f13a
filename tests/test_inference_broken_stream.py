"""An answer cut off mid-body (a port-forward dying while it relays) is a connection error to the inference
client: retried, and after the last attempt a one-line CheckFailed; smoke records it as a failed check
(issue 13, item 4)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kslab.errors import CheckFailed
from kslab.inference.client import InferenceClient
from kslab.inference.smoke import smoke_endpoint
from kslab.models.catalog import catalog_model
from kslab.models.endpoint import Endpoint

BODY = b'{"predictions": [1, 1]}'


@contextmanager
def cutting_server(cut_first: int) -> Iterator[list[int]]:
    """HTTP on 127.0.0.1 that announces the whole body but closes after a few bytes for the first ``cut_first``
    requests, then answers in full. Yields the list of request numbers it served (for the test to count)."""
    served: list[int] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                rest += chunk
            served.append(len(served) + 1)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY))
            conn.sendall(BODY[:5] if len(served) <= cut_first else BODY)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{listener.getsockname()[1]}"  # type: ignore[misc]
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def test_a_body_cut_once_is_retried():
    with cutting_server(cut_first=1) as (served, url), InferenceClient(Endpoint(url, "sklearn-iris"),
                                                                       backoff_s=0.01) as client:
        result = client.predict([[6.8, 2.8, 4.8, 1.4]])
    assert result.ok and result.predictions == [1, 1]
    assert result.attempts == 2 and len(served) == 2


def test_a_body_cut_every_time_is_one_line_connection_error():
    with cutting_server(cut_first=100) as (served, url), InferenceClient(Endpoint(url, "sklearn-iris"),
                                                                         backoff_s=0.01) as client, \
            pytest.raises(CheckFailed) as caught:
        client.predict([[6.8, 2.8, 4.8, 1.4]])
    assert len(served) == 3
    assert "cannot connect after 3 attempts (connection broken mid-answer)" in caught.value.message
    assert "\n" not in caught.value.message and "Traceback" not in caught.value.message


def test_smoke_over_a_breaking_endpoint_fails_its_checks_without_raising():
    with cutting_server(cut_first=10_000) as (_, url):
        report = smoke_endpoint(Endpoint(url, "sklearn-iris"), catalog_model("sklearn-iris"), timeout_s=5)
    assert report.checks and not any(c.ok for c in report.checks)
    assert all("connection broken mid-answer" in str(c.to_dict()) for c in report.checks)
