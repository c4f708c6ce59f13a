"""Known-answer smoke tests against a deployed model: readiness, metadata, V1/V2 predictions, rejection.

Expected classes come from the catalog (kserve/kserve@v0.20.0:test/e2e/predictor/test_sklearn.py), never from
the model under test. For malformed input the checks assert what the real KServe server does (kserve 0.21
measured): a V1 body that is not JSON → 400, a V2 body without "inputs" → 422 (FastAPI validation), a wrong
feature count → 500 with the estimator's message (the server wraps every predict error as an
InferenceError). The last is asserted as "rejected". Each check is a record entry (kslab.models.entries
``SmokeCheck``): its ``to_dict()`` is the observations of the check's ``smoke: <check>`` run-record step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kslab.errors import KslabError
from kslab.inference.client import PREDICT_OPERATIONS, InferenceClient
from kslab.inference.results import CallResult
from kslab.models.catalog import CatalogModel
from kslab.models.endpoint import Endpoint
from kslab.models.entries import SMOKE_PREFIX, SmokeCheck
from kslab.models.run_record import RunRecord
from kslab.models.steps import step

BATCH_SIZE = 30


@dataclass
class SmokeReport:
    model: str
    endpoint: str  # for people: "http://127.0.0.1:8080 (Host: ...) via port-forward"
    checks: list[SmokeCheck] = field(default_factory=list)
    url: str | None = None  # for scripts: the base URL, the route to it (local, port-forward, direct), Host
    route: str | None = None
    host: str | None = None

    @classmethod
    def at(cls, model: str, endpoint: Endpoint) -> SmokeReport:
        return cls(model, endpoint.describe(), url=endpoint.base_url, route=endpoint.via, host=endpoint.host)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[SmokeCheck]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "endpoint": self.endpoint, "url": self.url, "route": self.route,
                "host": self.host, "ok": self.ok, "passed": len(self.checks) -
                len(self.failed), "failed": len(self.failed), "checks": [c.to_dict() for c in self.checks]}


def _check(name: str, result: CallResult, ok: bool, expected: Any, actual: Any) -> SmokeCheck:
    if not result.ok:
        actual = {"status": result.status_code, "error": result.error}
    return SmokeCheck(name, ok, expected, actual, result.latency_ms, result.status_code)


def _ready(name: str, result: CallResult, expected: dict[str, Any]) -> SmokeCheck:
    body = result.body if isinstance(result.body, dict) else {}
    ok = result.ok and all(body.get(k) == v for k, v in expected.items())
    return _check(name, result, ok, expected, body)


def _predicted(name: str, result: CallResult, expected: list[int]) -> SmokeCheck:
    return _check(name, result, result.ok and result.predictions == expected, expected, result.predictions)


def _rejected(name: str, result: CallResult, expected: str, statuses: range) -> SmokeCheck:
    actual = {"status": result.status_code, "error": result.error}
    return SmokeCheck(name, result.status_code in statuses and bool(result.error), expected, actual,
                      result.latency_ms, result.status_code)


def batch(model: CatalogModel, size: int) -> tuple[list[list[float]], list[int]]:
    """``size`` rows cycling through the catalog samples, with their known classes."""
    known = [(row, cls) for sample in model.samples for row, cls in zip(sample.instances, sample.expect, strict=True)]
    pairs = list(itertools.islice(itertools.cycle(known), size))
    return [list(row) for row, _ in pairs], [cls for _, cls in pairs]


Call = Callable[[], CallResult]
Judge = Callable[[str, CallResult], SmokeCheck]


@dataclass(frozen=True)
class PlannedCheck:
    name: str
    call: Call  # the request, made when the check runs
    judge: Judge

    def run(self) -> SmokeCheck:
        return self.judge(self.name, self.call())


NOT_JSON = b'{"instances": [[6.8, 2.8'
NO_INPUTS = b'{"instances": [[6.8, 2.8, 4.8, 1.4]]}'
REJECTED_5XX = "rejected: 4xx or 5xx with an error (KServe answers 500)"


def plan_checks(client: InferenceClient, model: CatalogModel, batch_size: int = BATCH_SIZE) -> list[PlannedCheck]:
    """The checks for the endpoint's protocols, in the order they run."""
    protocols = [p for p in ("v1", "v2") if p in client.endpoint.protocols]
    name = client.endpoint.model_name
    plan: list[PlannedCheck] = []
    if "v2" in protocols:
        plan.append(PlannedCheck("v2 server ready", client.health, partial(_ready, expected={"ready": True})))
    if "v1" in protocols:
        plan.append(PlannedCheck("v1 model ready", client.model_ready,
                                 partial(_ready, expected={"name": name, "ready": True})))
    if "v2" in protocols:
        plan.append(PlannedCheck("v2 metadata", client.metadata, partial(_ready, expected={"name": name})))
    rows, expect = batch(model, batch_size)
    for protocol in protocols:
        operation = PREDICT_OPERATIONS[protocol]
        for index, sample in enumerate(model.samples, start=1):
            plan.append(PlannedCheck(f"{protocol} {operation} sample {index}",
                                     partial(client.send, protocol, sample.instances),
                                     partial(_predicted, expected=list(sample.expect))))
        plan.append(PlannedCheck(f"{protocol} {operation} batch of {len(rows)}", partial(client.send, protocol, rows),
                                 partial(_predicted, expected=expect)))
    four_xx = partial(_rejected, expected="4xx", statuses=range(400, 500))
    if "v1" in protocols:
        plan.append(PlannedCheck("v1 rejects a body that is not JSON", partial(client.raw, "v1", NOT_JSON), four_xx))
    if "v2" in protocols:
        plan.append(PlannedCheck("v2 rejects a body without inputs", partial(client.raw, "v2", NO_INPUTS), four_xx))
    if protocols:
        short = [list(model.samples[0].instances[0][:-1])]
        plan.append(PlannedCheck(f"{protocols[0]} rejects {len(short[0])} features instead of {len(model.features)}",
                                 partial(client.send, protocols[0], short),
                                 partial(_rejected, expected=REJECTED_5XX, statuses=range(400, 600))))
    return plan


def run_checks(client: InferenceClient, model: CatalogModel, *, record: RunRecord | None = None,
               on_check: Callable[[SmokeCheck], None] | None = None, batch_size: int = BATCH_SIZE) -> SmokeReport:
    """Run every planned check (a failing or unreachable one never stops the rest); each is a run-record step."""
    report = SmokeReport.at(model.name, client.endpoint)
    for planned in plan_checks(client, model, batch_size):
        with step(record, f"{SMOKE_PREFIX}{planned.name}") as observations:
            try:
                check = planned.run()
            except KslabError as exc:  # unreachable or timed out: this check fails, the others still run
                check = SmokeCheck(planned.name, False, "an answer", exc.message, None)
            observations.update(check.to_dict())
            if not check.ok:
                observations["_result"] = "failed"
        report.checks.append(check)
        if on_check is not None:
            on_check(check)
    return report


def smoke_endpoint(endpoint: Endpoint, model: CatalogModel, timeout_s: float = 30.0, **kwargs: Any) -> SmokeReport:
    with InferenceClient(endpoint, timeout_s=timeout_s) as client:
        return run_checks(client, model, **kwargs)
