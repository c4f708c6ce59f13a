"""Test-side helpers: send predict requests to the router, read a pod's /metrics through the API server."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
IRIS = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]


def post(base_url: str, host: str, path: str, body: Any, timeout: float = 60) -> tuple[int, Any]:
    request = urllib.request.Request(base_url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Host": host, "Content-Type": "application/json"})
    try:
        with NO_PROXY.open(request, timeout=timeout) as answer:
            data = answer.read()
            return answer.status, json.loads(data) if data else None
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")
    except OSError as exc:  # connection refused/reset: status 0, so the test's status check reports it
        return 0, str(exc)


def predict(base_url: str, host: str, model: str = "sklearn-iris") -> tuple[int, Any]:
    return post(base_url, host, f"/v1/models/{model}:predict", {"instances": IRIS})


def burst(count: int, concurrency: int, send: Callable[[], tuple[int, Any]]) -> list[int]:
    """Send ``count`` requests with ``concurrency`` threads; the status codes."""
    with ThreadPoolExecutor(concurrency) as pool:
        return [status for status, _ in pool.map(lambda _: send(), range(count))]


def hold_load(seconds: float, concurrency: int, send: Callable[[], tuple[int, Any]]) -> list[int]:
    """Closed loop: ``concurrency`` threads sending back to back for ``seconds``; the status codes."""
    codes: list[int] = []
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            codes.append(send()[0])
    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


@contextlib.contextmanager
def background_load(concurrency: int, send: Callable[[], tuple[int, Any]]) -> Iterator[list[int]]:
    """Closed loop in ``concurrency`` threads for as long as the block runs; yields the status codes so far."""
    codes: list[int] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            codes.append(send()[0])
    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        yield codes
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def pod_metrics(api_url: str, namespace: str, pod: str, port: int = 8080) -> str:
    """GET /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/metrics on the fake API server."""
    url = f"{api_url}/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/metrics"
    with NO_PROXY.open(url, timeout=30) as answer:
        return answer.read().decode()


def predict_count(text: str, model: str = "sklearn-iris") -> float:
    """request_predict_seconds_count{model_name=model} from Prometheus text (a plain scan, for tests)."""
    for line in text.splitlines():
        if line.startswith("request_predict_seconds_count{") and f'model_name="{model}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
