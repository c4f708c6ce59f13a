"""Run a load plan with one worker in this process or N worker processes, and merge what they measure.

Workers start together (each reports ready, then all begin at one shared monotonic t0). SIGINT stops
every worker gracefully (so do SIGTERM and SIGHUP); the result then covers what was measured and says
``interrupted``, and the signal is noted (kslab.util.signals) so the command still ends interrupted.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import signal
import time
from collections.abc import Callable
from typing import Any

from kslab.load.aggregate import Aggregate
from kslab.load.engine import Engine, EngineEnd, Tick, run_engine
from kslab.load.http import Target
from kslab.load.plan import LoadPlan
from kslab.models.entries import LoadResult
from kslab.util import signals

Progress = Callable[[dict[str, Any]], None]
PROGRESS_EVERY_S = 1.0
START_DELAY_S = 0.05
WORKER_START_TIMEOUT_S = 30.0


def run_load(target: Target, plan: LoadPlan, progress: Progress | None = None) -> dict[str, Any]:
    """Drive ``plan`` against ``target``; the summary, per-step results and per-second series as a dict."""
    return drive_load(target, plan, progress).to_dict()


def drive_load(target: Target, plan: LoadPlan, progress: Progress | None = None, *,
               stop: Callable[[], bool] | None = None) -> LoadResult:
    """Drive ``plan`` against ``target``; the typed result. With ``stop`` (one worker only) the run ends once
    ``stop()`` is true and installs no SIGINT handler, so it can run in any thread."""
    if stop is not None and plan.workers != 1:
        raise ValueError("an external stop drives one worker in this thread; the plan has several")
    aggregate = Aggregate(plan)
    if plan.workers == 1:
        ends, elapsed = _in_process(target, plan, aggregate, progress, stop)
    else:
        ends, elapsed = _in_processes(target, plan, aggregate, progress)
    return aggregate.load_result(target.url, elapsed, ends)


def _in_process(target: Target, plan: LoadPlan, aggregate: Aggregate, progress: Progress | None,
                stop: Callable[[], bool] | None = None) -> tuple[list[EngineEnd], float]:
    t0 = time.perf_counter()
    shown = [t0]

    def sink(tick: Tick) -> None:
        aggregate.add(tick)
        now = time.perf_counter()
        if progress is not None and now - shown[0] >= PROGRESS_EVERY_S:
            shown[0] = now
            progress(aggregate.live(now - t0))

    end = run_engine(Engine(target, plan, sink, t0, 0, stop), handle_sigint=stop is None)
    return [end], time.perf_counter() - t0


def _worker_main(target: Target, plan: LoadPlan, index: int, messages: Any, go: Any, t0: Any, stop: Any) -> None:
    """Entry point of a worker process: report ready, wait for the start signal, run, send ticks and the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops workers through ``stop``
    messages.put(("ready", index))
    go.wait()
    engine = Engine(target, plan, lambda tick: messages.put(("tick", tick)), t0.value, index, stop.is_set)
    end = run_engine(engine, handle_sigint=False)
    messages.put(("end", end))


def _in_processes(target: Target, plan: LoadPlan, aggregate: Aggregate,
                  progress: Progress | None) -> tuple[list[EngineEnd], float]:
    context = multiprocessing.get_context("spawn")
    messages, go, stop = context.Queue(), context.Event(), context.Event()
    t0 = context.Value("d", 0.0)
    workers = [context.Process(target=_worker_main, daemon=True, name=f"kslab-load-{i}",
                               args=(target, plan.for_worker(i), i, messages, go, t0, stop))
               for i in range(plan.workers)]
    ends: list[EngineEnd] = []
    start = time.perf_counter()
    with signals.stopping_gracefully(stop.set):
        _drive_workers(workers, messages, go, t0, stop, aggregate, progress, ends)
    if stop.is_set() and ends:
        ends[0].interrupted = True
    ends.sort(key=lambda e: len(e.steps_started), reverse=True)
    return ends, time.perf_counter() - (t0.value or start)


def _drive_workers(workers: list[Any], messages: Any, go: Any, t0: Any, stop: Any, aggregate: Aggregate,
                   progress: Progress | None, ends: list[EngineEnd]) -> None:
    try:
        for worker in workers:
            worker.start()
        _wait_ready(messages, len(workers), stop)
        t0.value = start = time.perf_counter() + START_DELAY_S
        go.set()
        shown = start
        while len(ends) < len(workers):
            try:
                kind, payload = messages.get(timeout=0.2)
            except queue_module.Empty:
                if not any(w.is_alive() for w in workers) and messages.empty():
                    break
                continue
            if kind == "tick":
                aggregate.add(payload)
            elif kind == "end":
                ends.append(payload)
            now = time.perf_counter()
            if progress is not None and now - shown >= PROGRESS_EVERY_S:
                shown = now
                progress(aggregate.live(now - start))
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)


def _wait_ready(messages: Any, count: int, stop: Any) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT_S
    ready = 0
    while ready < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {ready} of {count} load workers started")
        try:
            kind, _ = messages.get(timeout=0.2)
        except queue_module.Empty:
            continue
        ready += kind == "ready"
