"""One load worker: an asyncio event loop (uvloop) driving keep-alive connections through a plan's steps.

Closed loop: ``level`` tasks each send, wait for the answer, and send again. Open loop: requests have fixed
intended send times (``start + i / rate``); each connection takes the next slot, sleeps until it is due,
and latency is measured from the intended time, so a stalled server shows up in every request scheduled
during the stall (coordinated omission corrected). A slot a connection reaches more than LATE_S after its
intended time is counted as late. Every second the worker hands a Tick (counts, errors and an encoded HDR
histogram of that second) to ``sink``; nothing grows with the number of requests.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kslab.load.histogram import LatencyRecorder, encode, histogram_of
from kslab.load.http import Connection, ConnectionLost, Target, connect
from kslab.load.plan import LoadPlan, Step

LATE_S = 0.002
WATCHDOG_S = 0.05
CONNECT_BACKOFF_S = 0.01


@dataclass
class Tick:
    """One worker's second (or the part of it before a step change or the end)."""

    second: int
    step: int
    ok: int
    errors: dict[str, int]
    late: int
    histogram: str  # HDR, encoded
    worker: int = 0


@dataclass
class EngineEnd:
    interrupted: bool = False
    unfinished: int = 0  # requests in flight when a timed step ended or the run was stopped
    steps_started: list[float] = field(default_factory=list)


class Engine:
    def __init__(self, target: Target, plan: LoadPlan, sink: Callable[[Tick], None], t0: float,
                 worker: int = 0, external_stop: Callable[[], bool] | None = None) -> None:
        self.target = target
        self.plan = plan
        self.sink = sink
        self.t0 = t0
        self.worker = worker
        self.external_stop = external_stop
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped: asyncio.Event | None = None
        self.connections: set[Connection] = set()
        self.recorder = LatencyRecorder()
        self.second = 0
        self.step = 0
        self.ok = 0
        self.late = 0
        self.errors: dict[str, int] = {}
        self.end = EngineEnd()
        self._budget = 0
        self._next_slot = 0

    # -- accounting ------------------------------------------------------------------------------------------
    def _flush(self) -> None:
        if self.ok or self.errors or self.late:
            self.sink(Tick(self.second, self.step, self.ok, self.errors, self.late,
                           encode(histogram_of(self.recorder.drain())), self.worker))
        self.ok = self.late = 0
        self.errors = {}

    def _roll(self, now: float) -> None:
        second = int(now - self.t0)
        if second != self.second:
            self._flush()
            self.second = second

    def _error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    # -- one request -----------------------------------------------------------------------------------------
    async def _exchange(self, conn: Connection | None, intended: float) -> Connection | None:
        """Send one request on ``conn`` (connecting first if needed); account for its outcome."""
        if conn is None or conn.transport is None or not conn.keep_alive:
            conn = await self._reconnect(conn)
            if conn is None:
                return None
        clock = time.perf_counter
        try:
            status = await conn.request(self.target.request, self.loop, clock() + self.plan.timeout_s)
        except TimeoutError:
            self._error("timeout")
            status = 0
        except ConnectionLost:
            self._error("connection closed")
            status = 0
        done = clock()
        if 200 <= status < 300:
            self.ok += 1
            self.recorder.record(int((done - intended) * 1_000_000))
        elif status:
            self._error(f"HTTP {status}")
        else:
            conn.close()
            self.connections.discard(conn)
            conn = None
        if done - self.t0 >= self.second + 1:
            self._roll(done)
        return conn

    async def _reconnect(self, conn: Connection | None) -> Connection | None:
        if conn is not None:
            conn.close()
            self.connections.discard(conn)
        try:
            conn = await connect(self.target, self.loop, self.plan.timeout_s)  # type: ignore[arg-type]
        except (OSError, TimeoutError):
            self._error("connect")
            self._roll(time.perf_counter())
            await asyncio.sleep(CONNECT_BACKOFF_S)
            return None
        self.connections.add(conn)
        return conn

    def _take(self) -> bool:
        """Claim one request of a --requests budget (always True for timed steps)."""
        if self._budget < 0:
            return True
        if self._budget == 0:
            return False
        self._budget -= 1
        return True

    # -- loops -----------------------------------------------------------------------------------------------
    async def _closed_task(self, end: float | None) -> None:
        conn: Connection | None = None
        clock, exchange = time.perf_counter, self._exchange
        end = float("inf") if end is None else end
        while not self._halted() and (self._budget < 0 or self._take()) and (now := clock()) < end:
            conn = await exchange(conn, now)
        if conn is not None:
            conn.close()

    async def _open_task(self, start: float, interval: float, end: float | None) -> None:
        conn: Connection | None = None
        while True:
            slot = self._next_slot
            intended = start + slot * interval
            if self._halted() or (end is not None and intended >= end) or not self._take():
                break
            self._next_slot = slot + 1
            wait = intended - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -LATE_S:
                self.late += 1
            conn = await self._exchange(conn, intended)
        if conn is not None:
            conn.close()

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_S)
            now = time.perf_counter()
            for conn in list(self.connections):
                conn.expire(now)
            self._roll(now)
            if self.external_stop is not None and self.external_stop():
                self.stop()

    async def _run_step(self, index: int, step: Step) -> None:
        self._flush()
        self.step = index
        start = time.perf_counter()
        self.end.steps_started.append(round(start - self.t0, 3))
        end = None if step.duration_s is None else start + step.duration_s
        self._budget = -1 if step.requests is None else step.requests
        if self.plan.mode == "open":
            self._next_slot = 0
            tasks = [asyncio.ensure_future(self._open_task(start, 1.0 / step.level, end))
                     for _ in range(self.plan.connections)] if step.level > 0 else []
        else:
            tasks = [asyncio.ensure_future(self._closed_task(end)) for _ in range(int(step.level))]
        if not tasks and end is not None:  # a worker's share of this level is zero: keep in step with the rest
            tasks = [asyncio.ensure_future(asyncio.sleep(end - start))]
        everything = asyncio.gather(*tasks)
        stop = asyncio.ensure_future(self.stopped.wait())  # type: ignore[union-attr]
        timeout = None if end is None else max(0.0, end - time.perf_counter()) + WATCHDOG_S
        await asyncio.wait([everything, stop], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        unfinished = sum(1 for c in self.connections if c.waiter is not None)
        everything.cancel()
        await asyncio.gather(everything, return_exceptions=True)
        self.end.unfinished += unfinished
        for conn in list(self.connections):
            conn.close()
        self.connections.clear()

    def _halted(self) -> bool:
        """Stopped: each loop checks it itself, because Python 3.11's asyncio.wait_for (connect) can swallow the
        cancellation that ends a step (CPython gh-86296) and the task would run on to the step's end."""
        return self.stopped is not None and self.stopped.is_set()

    def stop(self) -> None:
        if self.stopped is not None and not self.stopped.is_set():
            self.end.interrupted = True
            self.stopped.set()

    async def run(self) -> EngineEnd:
        self.loop = asyncio.get_running_loop()
        self.stopped = asyncio.Event()
        self.second = int(time.perf_counter() - self.t0)
        watchdog = asyncio.ensure_future(self._watchdog())
        try:
            for index, step in enumerate(self.plan.steps):
                if self.stopped.is_set():
                    break
                await self._run_step(index, step)
        finally:
            watchdog.cancel()
            self._flush()
        return self.end


def run_engine(engine: Engine, handle_sigint: bool = True) -> EngineEnd:
    """Run ``engine`` on a fresh uvloop loop in this thread. With ``handle_sigint`` Ctrl-C, SIGTERM and SIGHUP stop
    it gracefully (a partial result, ``interrupted``) and are noted (kslab.util.signals) so the command still ends
    interrupted; the handlers in place before come back afterwards."""
    import uvloop

    from kslab.util import signals

    def stop_on(signum: int) -> None:
        signals.note(signum)
        engine.stop()

    async def main() -> EngineEnd:
        loop = asyncio.get_running_loop()
        previous = {signum: signal.getsignal(signum) for signum in signals.STOPPING} if handle_sigint else {}
        for signum in previous:
            loop.add_signal_handler(signum, stop_on, signum)
        try:
            return await engine.run()
        finally:
            for signum, handler in previous.items():
                loop.remove_signal_handler(signum)  # resets to the default action: put back what was there
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())
