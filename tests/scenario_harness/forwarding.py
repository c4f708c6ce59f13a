"""HTTP plumbing shared by the harness router and its queue-proxy stand-ins: a forwarding handler base."""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from dataclasses import dataclass

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
        "content-length"}


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"


class Upstreams(threading.local):
    """Per-thread keep-alive connections to upstream servers (one per host:port)."""

    def __init__(self) -> None:
        self.conns: dict[str, http.client.HTTPConnection] = {}

    def send(self, base_url: str, method: str, path: str, body: bytes | None, headers: dict[str, str],
             timeout: float = 60.0) -> Answer:
        netloc = urllib.parse.urlsplit(base_url).netloc
        send_headers = {k: v for k, v in headers.items() if k.lower() not in _HOP}
        if body is not None:
            send_headers["Content-Length"] = str(len(body))
        for attempt in (1, 2):
            conn = self.conns.get(netloc)
            if conn is None:
                conn = self.conns[netloc] = http.client.HTTPConnection(netloc, timeout=timeout)
            try:
                conn.request(method, path, body=body, headers=send_headers)
                resp = conn.getresponse()
                data = resp.read()
                return Answer(resp.status, data, resp.getheader("Content-Type") or "application/octet-stream")
            except (OSError, http.client.HTTPException):
                conn.close()
                self.conns.pop(netloc, None)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class ForwardingHandler(http.server.BaseHTTPRequestHandler):
    """Reads the request and lets ``self.server.handle_request_for(handler, body)`` answer it."""

    protocol_version = "HTTP/1.1"
    server_header = "istio-envoy"

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        answer = self.server.answer(self, body)  # type: ignore[attr-defined]
        self.send_response(answer.status)
        self.send_header("Server", self.server_header)
        if answer.body or answer.status != 404:
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def version_string(self) -> str:
        return self.server_header

    def log_message(self, *args: object) -> None:
        pass


class ForwardingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default 5 resets connections when a load test opens many at once

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ForwardingHandler)
        self.upstreams = Upstreams()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, handler: ForwardingHandler, body: bytes | None) -> Answer:
        raise NotImplementedError

    def forward(self, base_url: str, handler: ForwardingHandler, body: bytes | None) -> Answer:
        try:
            return self.upstreams.send(base_url, handler.command, handler.path, body, dict(handler.headers.items()))
        except (OSError, http.client.HTTPException) as exc:
            return Answer(503, f"upstream connect error or disconnect/reset before headers: {exc}".encode(),
                          "text/plain")

    def start(self) -> ForwardingServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                        name=type(self).__name__)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class QueueProxy(ForwardingServer):
    """Stand-in for a Knative pod's queue-proxy (port 8012): forwards to the pod's user container (8080)."""

    def __init__(self, user_container_url: str) -> None:
        super().__init__()
        self.user_container_url = user_container_url

    def answer(self, handler: ForwardingHandler, body: bytes | None) -> Answer:
        return self.forward(self.user_container_url, handler, body)
