"""The fake API server's HTTP layer: a ThreadingHTTPServer on 127.0.0.1 speaking HTTP/1.1.

Routes discovery/OpenAPI (:mod:`.discovery`), resource URLs (:mod:`.rest`) and the test-only
``/_fake/...`` endpoints; consults the fault injector for every request; streams watches as chunked
newline-delimited JSON; answers every error with a metav1 Status body; and keeps a bounded log of
what clients sent (``ApiServer.request_log``) so tests can assert on it.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import discovery, tables
from .errors import ApiError
from .faults import Decision
from .rest import Request, ResourceHandler, Response
from .watch import WatchRequest, query_bool


@dataclass
class RequestRecord:
    """One request as the client sent it (``status`` is filled in when the reply goes out)."""

    method: str
    path: str  # path plus query string, as sent
    content_type: str
    user_agent: str
    kubectl_command: str
    accept: str
    status: int = 0


def _not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: ApiServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    timeout = 120  # idle keep-alive connections are dropped after this long

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms per reply
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.api.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.api.track(self.connection, False)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # -- request handling --------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        api = self.server.api
        split = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
        req = Request(self.command, urllib.parse.unquote(split.path), query, split.query,
                      {k.lower(): v for k, v in self.headers.items()}, self._read_body())
        record = api.record(req, self.path)
        try:
            is_watch = query_bool(query.get("watch")) or "/watch/" in req.path
            decision = api.cluster.faults.decide(req.method, req.path, is_watch=is_watch)
            if decision.latency:
                time.sleep(decision.latency)
            if decision.error is not None:
                raise decision.error
            result = api.route(req)
            if isinstance(result, WatchRequest):
                record.status = 200
                self._stream(result, decision, tables.wanted(req.headers.get("accept")))
            else:
                record.status = result.status
                self._reply(result)
        except ApiError as exc:
            record.status = exc.code
            self._reply(Response(exc.code, exc.status(), headers=exc.headers))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: report it the way the apiserver reports panics
            traceback.print_exc(file=sys.stderr)
            record.status = 500
            err = ApiError(500, "InternalError", f"Internal error occurred: {type(exc).__name__}: {exc}")
            self._reply(Response(500, err.status()))

    def _reply(self, resp: Response) -> None:
        body = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    # -- watch streaming ---------------------------------------------------------------------------
    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _stream(self, watch: WatchRequest, decision: Decision, as_table: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        api = self.server.api

        def send(event: dict[str, Any]) -> None:
            if as_table and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                meta = {"resourceVersion": event["object"]["metadata"].get("resourceVersion", "")}
                event = {"type": event["type"], "object": tables.table(watch.rt, [event["object"]], meta)}
            data = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        live = []

        def on_live() -> None:  # counted from here: a change made now reaches the client as a live event
            live.append(True)
            api.watch_opened(watch.rt.key, +1)
        try:
            finished = watch.run(send, stopped=lambda: api.stopping.is_set() or self._client_gone(),
                                 drop_after=decision.drop_watch_after, on_live=on_live)
        finally:
            if live:
                api.watch_opened(watch.rt.key, -1)
        if not finished and decision.abrupt:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class ApiServer:
    """HTTP front end of a FakeCluster: ``start()``, ``stop()``, ``url``, ``request_log``."""

    def __init__(self, cluster: Any, host: str = "127.0.0.1", port: int = 0, log_size: int = 5000) -> None:
        self.cluster = cluster
        self.resources = ResourceHandler(cluster)
        self.stopping = threading.Event()
        self.request_log: deque[RequestRecord] = deque(maxlen=log_size)
        self._log_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._watches: Counter[str] = Counter()  # resource key ("serving.kserve.io/inferenceservices") -> open streams
        self._watches_changed = threading.Condition(self._log_lock)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.api = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        return "http://{}:{}".format(*self.address)

    @property
    def open_connections(self) -> int:
        """Client connections currently held by handler threads (idle keep-alive or streaming)."""
        with self._log_lock:
            return len(self._connections)

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-apiserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        with self._log_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- bookkeeping -------------------------------------------------------------------------------
    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._log_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def watch_opened(self, key: str, delta: int) -> None:
        with self._watches_changed:
            self._watches[key] += delta
            self._watches_changed.notify_all()

    def open_watches(self, plural: str | None = None) -> int:
        """Watch streams following live events right now (initial events sent): all, or those on ``plural``."""
        with self._log_lock:
            return sum(n for key, n in self._watches.items() if plural is None or key.split("/")[-1] == plural)

    def wait_for_watch(self, plural: str, count: int = 1, timeout: float = 10.0) -> None:
        """Block until at least ``count`` watches on ``plural`` are open: the test's signal that a client is now
        following live events (rather than a sleep that hopes it is). AssertionError after ``timeout``."""
        def enough() -> bool:
            return sum(n for key, n in self._watches.items() if key.split("/")[-1] == plural) >= count
        with self._watches_changed:
            if not self._watches_changed.wait_for(enough, timeout):
                raise AssertionError(f"no {count} open watch(es) on {plural} within {timeout:g}s: "
                                     f"{dict(self._watches)}")

    def record(self, req: Request, raw_path: str) -> RequestRecord:
        entry = RequestRecord(req.method, raw_path, req.headers.get("content-type", ""),
                              req.headers.get("user-agent", ""), req.headers.get("kubectl-command", ""),
                              req.headers.get("accept", ""))
        with self._log_lock:
            self.request_log.append(entry)
        return entry

    def requests(self, method: str | None = None, contains: str = "") -> list[RequestRecord]:
        """Logged requests, optionally filtered by method and a substring of path+query."""
        with self._log_lock:
            return [r for r in self.request_log if (method is None or r.method == method) and contains in r.path]

    def clear_log(self) -> None:
        with self._log_lock:
            self.request_log.clear()

    # -- routing -----------------------------------------------------------------------------------
    def route(self, req: Request) -> Response | WatchRequest:
        path = req.path.rstrip("/") or "/"
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] == "_fake":
            return self._fake_endpoint(parts)
        if path.startswith("/api/") or path.startswith("/apis/"):
            if parts[0] == "api" and len(parts) >= 3:
                return self.resources.handle(req, "", parts[1], parts[2:])
            if parts[0] == "apis" and len(parts) >= 4:
                return self.resources.handle(req, parts[1], parts[2], parts[3:])
        if req.method not in ("GET", "HEAD"):
            if path in ("/api", "/apis", "/version") or path.startswith(("/api/", "/apis/", "/openapi")):
                raise ApiError.method_not_allowed()
            raise _not_found()
        return self._read_only(req, path, parts)

    def _read_only(self, req: Request, path: str, parts: list[str]) -> Response:
        accept = req.headers.get("accept")
        if path == "/version":
            return Response(200, discovery.version_info(self.cluster.kubernetes_version))
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if path in ("/api", "/apis"):
            core = path == "/api"
            if discovery.wants_aggregated(accept):
                return Response(200, discovery.aggregated(core), discovery.AGGREGATED_CONTENT_TYPE)
            return Response(200, discovery.api_versions() if core else discovery.api_group_list())
        doc: dict[str, Any] | None = None
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.api_resource_list("", parts[1])
        elif parts[0] == "apis" and len(parts) == 2:
            doc = discovery.api_group(parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            doc = discovery.api_resource_list(parts[1], parts[2])
        elif path == "/openapi/v3":
            doc = discovery.openapi_index()
        elif parts[:2] == ["openapi", "v3"] and len(parts) in (4, 5):
            gv = parts[2:]
            if gv[0] == "api" and len(gv) == 2:
                doc = discovery.openapi_document("", gv[1])
            elif gv[0] == "apis" and len(gv) == 3:
                doc = discovery.openapi_document(gv[1], gv[2])
        if doc is None:
            raise _not_found()
        return Response(200, doc)

    def _fake_endpoint(self, parts: list[str]) -> Response:
        # /_fake/pods/<ns>/<pod>/ports/<port>: where a port-forward to that pod port should connect
        if len(parts) == 6 and parts[1] == "pods" and parts[4] == "ports" and parts[5].isdigit():
            target = self.cluster.node.proxy_target(parts[2], parts[3], int(parts[5]))
            if target is None:
                raise ApiError(404, "NotFound", f"no proxy target for pod {parts[2]}/{parts[3]} port {parts[5]}")
            return Response(200, {"target": target})
        raise _not_found()
