"""kslab.load against a local test server: error classes, stopping on time, open-loop stall, workers."""

from __future__ import annotations

import socket
import time

import pytest

from kslab.load.histogram import decode
from kslab.load.http import Target
from kslab.load.plan import build_plan
from kslab.load.runner import run_load
from tests.load_support import TestServer


def _plan(**flags):
    base = {"concurrency": None, "duration": None, "requests": None, "rate": None, "profile": None,
            "warmup": None, "timeout": None, "workers": 1}
    return build_plan(**(base | flags))


def _target(url: str) -> Target:
    return Target.build(url, "", b'{"instances":[[1,2,3,4]]}')


@pytest.fixture(scope="module")
def server():
    with TestServer() as running:
        yield running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_requests_run_counts_every_answer_and_the_latencies(server):
    result = run_load(_target(server.url("/ok")), _plan(concurrency=4, requests=400))
    assert (result["requests"], result["ok"], result["error_total"]) == (400, 400, 0)
    assert result["latency"]["count"] == 400
    assert 0 < result["latency"]["p50_ms"] <= result["latency"]["p99_ms"] <= result["latency"]["max_ms"] < 1000
    assert sum(row["ok"] for row in result["series"]) == 400
    assert decode(result["histogram"]).get_total_count() == 400


@pytest.mark.parametrize("status", [500, 404])
def test_http_errors_are_classified_by_status(server, status):
    result = run_load(_target(server.url(f"/status/{status}")), _plan(concurrency=2, requests=20))
    assert result["errors"] == {f"HTTP {status}": 20}
    assert result["ok"] == 0 and result["latency"]["count"] == 0


def test_connection_refused_is_a_connect_error():
    result = run_load(_target(f"http://127.0.0.1:{_free_port()}/x"), _plan(concurrency=2, requests=6))
    assert result["errors"] == {"connect": 6}


def test_a_server_that_never_answers_gives_timeouts(server):
    result = run_load(_target(server.url("/hang")), _plan(concurrency=3, requests=3, timeout="300ms"))
    assert result["errors"] == {"timeout": 3}


def test_a_server_closing_the_connection_is_handled_by_reconnecting(server):
    result = run_load(_target(server.url("/close")), _plan(concurrency=2, requests=50))
    assert result["ok"] == 50 and result["error_total"] == 0


def test_a_connection_dropped_without_an_answer_is_its_own_error_class(server):
    result = run_load(_target(server.url("/drop")), _plan(concurrency=2, requests=10))
    assert result["errors"] == {"connection closed": 10}


def test_a_duration_run_stops_on_time_even_with_requests_in_flight(server):
    start = time.perf_counter()
    result = run_load(_target(server.url("/hang")), _plan(concurrency=3, duration="1s", timeout="30s"))
    elapsed = time.perf_counter() - start
    assert 0.95 <= elapsed < 1.5, elapsed
    assert result["unfinished"] == 3 and result["requests"] == 0


def test_open_loop_latency_includes_the_stall_for_every_request_scheduled_during_it(server):
    rate, stall_s = 200.0, 1.0
    server.stall(time.perf_counter() + 0.5, stall_s)
    try:
        result = run_load(_target(server.url("/ok")), _plan(rate=rate, duration="2.5s", concurrency=4))
    finally:
        server.stall_window = None
    histogram = decode(result["histogram"])
    scheduled_in_stall = rate * stall_s
    # a request scheduled at t inside the stall waits (stall end - t): latencies spread evenly over 0..1 s,
    # so about half of those 200 requests wait >= 0.5 s. Without correction only the 4 in flight would.
    over_half = sum(histogram.get_count_at_value(v) for v in _recorded_values(histogram) if v >= 500_000)
    assert over_half >= 0.4 * scheduled_in_stall, over_half
    assert result["latency"]["max_ms"] >= 900
    assert result["late"] >= 0.8 * scheduled_in_stall  # could not be sent on time: every connection was stuck
    assert 0.9 * rate * 2.5 <= result["requests"] <= rate * 2.5 + 1


def _recorded_values(histogram):
    return [item.value_iterated_to for item in histogram.get_recorded_iterator()]


def test_open_loop_keeps_the_rate_against_a_fast_server(server):
    result = run_load(_target(server.url("/ok")), _plan(rate=300.0, duration="2s"))
    assert 570 <= result["requests"] <= 601
    assert result["late"] <= 0.05 * result["requests"]


def test_profile_gives_one_result_per_level(server):
    result = run_load(_target(server.url("/ok")), _plan(profile="1,4@600ms"))
    assert [step["level"] for step in result["steps"]] == [1.0, 4.0]
    assert all(step["ok"] > 0 and step["throughput_rps"] for step in result["steps"])
    assert result["ok"] == sum(step["ok"] for step in result["steps"])


def test_warmup_seconds_are_in_the_series_but_not_in_the_totals(server):
    result = run_load(_target(server.url("/ok")), _plan(concurrency=2, duration="2.5s", warmup="1s"))
    warm = sum(row["ok"] for row in result["series"] if row["warmup"])
    measured = sum(row["ok"] for row in result["series"] if not row["warmup"])
    assert warm > 0 and measured == result["ok"] == result["latency"]["count"]


def test_two_worker_processes_merge_into_one_result(server):
    result = run_load(_target(server.url("/ok")), _plan(concurrency=4, requests=1000, workers=2))
    assert (result["ok"], result["latency"]["count"], result["error_total"]) == (1000, 1000, 0)
    assert result["workers"] == 2


def test_a_stop_ends_the_run_even_when_a_cancellation_is_swallowed(server, monkeypatch):
    """Python 3.11's asyncio.wait_for (used to connect) can swallow the cancellation that ends a step when the
    connection completes at the same moment (CPython gh-86296): the task then carried on sending until the step's
    end, and a scenario's background traffic outlived its scenario by a minute. Each loop checks the stop itself."""
    import asyncio
    import contextlib

    from kslab.load import engine as engine_module
    from kslab.load import http as http_module
    from kslab.load.runner import drive_load

    real_connect = http_module.connect

    async def connect_swallowing_cancel(target, loop, timeout_s):
        with contextlib.suppress(asyncio.CancelledError):  # what wait_for does in the race: the cancellation
            await asyncio.sleep(0.2)                         # is lost and the connection returned
        return await real_connect(target, loop, timeout_s)

    monkeypatch.setattr(engine_module, "connect", connect_swallowing_cancel)
    started = time.perf_counter()
    stop_at = started + 0.1  # while every task is still connecting
    result = drive_load(_target(server.url("/ok")), _plan(concurrency=2, duration="30s"),
                        stop=lambda: time.perf_counter() >= stop_at)
    assert time.perf_counter() - started < 5, "the run went on after its stop"
    assert result.interrupted
