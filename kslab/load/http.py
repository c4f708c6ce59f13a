"""A lean HTTP/1.1 keep-alive connection: one pre-encoded request in flight, responses parsed by httptools."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

from kslab.errors import UsageError


@dataclass(frozen=True)
class Target:
    """Where to send and the exact bytes of the request (built once, sent unchanged every time)."""

    host: str
    port: int
    request: bytes
    url: str

    @classmethod
    def build(cls, url: str, path: str, body: bytes, host_header: str | None = None) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise UsageError(f"{url!r} is not an http:// URL", "example: --url http://127.0.0.1:8080")
        port = parts.port or 80
        host = host_header or (parts.netloc if parts.port else parts.hostname)
        full_path = (parts.path.rstrip("/") + path) if path else (parts.path or "/")
        if parts.query:
            full_path += "?" + parts.query
        head = (f"POST {full_path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nUser-Agent: kslab-load\r\n\r\n")
        return cls(parts.hostname, port, head.encode("latin-1") + body, f"http://{parts.netloc}{full_path}")


class ConnectionLost(Exception):
    """The server closed or reset the connection before a whole response arrived."""


class Connection(asyncio.Protocol):
    """Send ``request()``; it resolves to the response status once the whole response is read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[int] | None = None
        self.status = 0
        self.keep_alive = True
        self.deadline = 0.0  # loop time after which the watchdog fails the request in flight

    # -- asyncio.Protocol ------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionLost(f"bad response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionLost(str(exc) if exc else "closed by the server"))

    # -- httptools callbacks ---------------------------------------------------------------------------------
    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self.status)

    # -- use -------------------------------------------------------------------------------------------------
    @property
    def usable(self) -> bool:
        return self.transport is not None and self.keep_alive and not self.transport.is_closing()

    def request(self, payload: bytes, loop: asyncio.AbstractEventLoop, deadline: float) -> asyncio.Future[int]:
        waiter = loop.create_future()
        self.waiter = waiter
        self.deadline = deadline
        self.transport.write(payload)  # type: ignore[union-attr]
        return waiter

    def expire(self, now: float) -> None:
        """Watchdog: fail (and close) a request in flight past its deadline."""
        if self.waiter is not None and now >= self.deadline:
            self._fail(TimeoutError("no response before the timeout"))
            self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


async def connect(target: Target, loop: asyncio.AbstractEventLoop, timeout_s: float) -> Connection:
    """Open a connection (TCP_NODELAY is asyncio's default for TCP); OSError/TimeoutError on failure."""
    _, protocol = await asyncio.wait_for(loop.create_connection(Connection, target.host, target.port),
                                         timeout_s)
    return protocol
