"""A small HTTP/1.1 keep-alive test server on 127.0.0.1 for the load tests, running in a thread.

Paths: /ok → 200, /status/NNN → NNN, /hang → never answers, /close → 200 with Connection: close, /drop → closes
without answering. ``stall(at, seconds)``
holds every answer due in [at, at + seconds) (loop time) until the stall ends, like a paused server.
"""

from __future__ import annotations

import asyncio
import threading
import time


class TestServer:
    __test__ = False

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.stall_window: tuple[float, float] | None = None  # perf_counter times
        self.requests = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TestServer:
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stall(self, start: float, seconds: float) -> None:
        self.stall_window = (start, start + seconds)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()
        handlers = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in handlers:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*handlers, return_exceptions=True))
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = next((int(v.split(":")[1]) for v in lines if v.lower().startswith("content-length")), 0)
                await reader.readexactly(length)
                self.requests += 1
                window = self.stall_window
                now = time.perf_counter()
                if window and window[0] <= now < window[1]:
                    await asyncio.sleep(window[1] - now)
                if path == "/hang":
                    await asyncio.sleep(3600)
                if path == "/drop":
                    break
                status = int(path.rsplit("/", 1)[1]) if path.startswith("/status/") else 200
                close = "Connection: close\r\n" if path == "/close" else ""
                writer.write(f"HTTP/1.1 {status} X\r\n{close}Content-Length: 2\r\n\r\nok".encode())
                await writer.drain()
                if path == "/close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
