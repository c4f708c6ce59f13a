"""An HTTP client for KServe's V1 protocol and the Open Inference Protocol (V2).

One pooled ``requests.Session`` per client, connect and read timeouts, and a few quick retries (tenacity) on
connection errors and 503 only: a model server that is starting, or a port-forward being re-established.
An answer cut off mid-body (a port-forward dying while it relays) counts as a connection error.
Every other answer, 4xx and 5xx included, comes back as a CallResult carrying the server's error text.
The endpoint's headers (the Host header the Istio gateway routes on) go with every request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from kslab.errors import CheckFailed, WaitTimeout
from kslab.inference import payloads
from kslab.inference.results import CallResult
from kslab.models.endpoint import Endpoint

RETRY_STATUS = 503
PREDICT_OPERATIONS = {"v1": "predict", "v2": "infer"}


class InferenceClient:
    def __init__(self, endpoint: Endpoint, *, timeout_s: float = 30.0, connect_timeout_s: float = 3.0,
                 attempts: int = 3, backoff_s: float = 0.1, pool_size: int = 10) -> None:
        self.endpoint = endpoint
        self.timeout = (connect_timeout_s, timeout_s)
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(endpoint.headers())

    def __enter__(self) -> InferenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    # --- the protocol's operations -------------------------------------------------------------------------
    def health(self) -> CallResult:
        """GET /v2/health/ready → {"ready": true}."""
        return self.call("GET", "/v2/health/ready", operation="health", protocol="v2")

    def model_ready(self) -> CallResult:
        """GET /v1/models/NAME → {"name": NAME, "ready": true}."""
        return self.call("GET", f"/v1/models/{self.endpoint.model_name}", operation="model-ready", protocol="v1")

    def metadata(self) -> CallResult:
        """GET /v2/models/NAME → {"name", "versions", "platform", "inputs", "outputs"}."""
        return self.call("GET", f"/v2/models/{self.endpoint.model_name}", operation="metadata", protocol="v2")

    def predict(self, instances: Sequence[Sequence[float]]) -> CallResult:
        """V1: POST /v1/models/NAME:predict {"instances": [...]} → {"predictions": [...]}."""
        return self.call("POST", self.predict_path("v1"), operation="predict", protocol="v1",
                         json_body=payloads.v1_body(instances))

    def infer(self, instances: Sequence[Sequence[float]]) -> CallResult:
        """V2: POST /v2/models/NAME/infer with one FP32 tensor "input-0" of shape [n, features]."""
        return self.call("POST", self.predict_path("v2"), operation="infer", protocol="v2",
                         json_body=payloads.v2_body(instances))

    def send(self, protocol: str, instances: Sequence[Sequence[float]]) -> CallResult:
        return self.predict(instances) if protocol == "v1" else self.infer(instances)

    def raw(self, protocol: str, body: bytes) -> CallResult:
        """POST ``body`` unchanged (Content-Type: application/json) to the protocol's predict/infer route."""
        return self.call("POST", self.predict_path(protocol), operation="raw", protocol=protocol, data=body)

    def predict_path(self, protocol: str) -> str:
        return payloads.predict_path(protocol, self.endpoint.model_name)

    # --- transport -----------------------------------------------------------------------------------------
    def call(self, method: str, path: str, *, operation: str, protocol: str, json_body: Any = None,
             data: bytes | None = None) -> CallResult:
        url = self.endpoint.base_url.rstrip("/") + path
        headers = {"Content-Type": "application/json"} if data is not None else None
        timings: list[float] = []
        tries = 0

        def attempt() -> requests.Response:
            nonlocal tries
            tries += 1
            started = time.perf_counter()
            try:
                response = self.session.request(method, url, json=json_body, data=data, headers=headers,
                                                timeout=self.timeout)
                _ = response.content  # read the body inside the timed window
            except requests.exceptions.ChunkedEncodingError as exc:  # the connection broke mid-answer
                raise requests.ConnectionError(f"Connection broken mid-answer: {exc}") from None
            timings.append((time.perf_counter() - started) * 1000)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s, max=2.0),
            retry=retry_if_exception_type(requests.ConnectionError) | retry_if_result(
                lambda r: r.status_code == RETRY_STATUS),
            retry_error_callback=_last_outcome, reraise=True)
        try:
            response = retrying(attempt)
        except requests.ConnectTimeout:
            raise WaitTimeout(f"{method} {url}: no connection within {self.timeout[0]:g}s "
                              f"({self.attempts} attempts)", _reach_hint(self.endpoint)) from None
        except requests.ConnectionError as exc:
            raise CheckFailed(f"{method} {url}: cannot connect after {self.attempts} attempts "
                              f"({_reason(exc)})", _reach_hint(self.endpoint)) from None
        except requests.Timeout:
            raise WaitTimeout(f"{method} {url}: no answer within {self.timeout[1]:g}s",
                              "the model server is overloaded or stuck; see its log or 'kslab doctor'") from None
        return _result(response, operation, protocol, method, url, timings[-1], tries)


def _last_outcome(state: RetryCallState) -> requests.Response:
    """After the last attempt: hand back a final 503 as a result, re-raise a final connection error."""
    assert state.outcome is not None
    return state.outcome.result()


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Connection reset", "Remote end closed",
                   "Connection broken mid-answer"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def _reach_hint(endpoint: Endpoint) -> str:
    if endpoint.via == "local":
        return f"is the local runtime running? 'kslab deploy {endpoint.model_name} --provider local'"
    return f"check the route with 'kslab status' / 'kslab doctor {endpoint.model_name}'"


def _result(response: requests.Response, operation: str, protocol: str, method: str, url: str, latency_ms: float,
            attempts: int) -> CallResult:
    text = response.text
    try:
        body = response.json() if text else None
    except ValueError:
        body = None
    ok = 200 <= response.status_code < 300
    return CallResult(operation=operation, protocol=protocol, method=method, url=url,
                      status_code=response.status_code, latency_ms=round(latency_ms, 3), body=body, text=text,
                      error=None if ok else payloads.error_text(body, text) or response.reason, attempts=attempts,
                      predictions=payloads.predictions(protocol, body) if ok else None)
