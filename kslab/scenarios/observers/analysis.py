"""``canary-analysis``: what each revision of a canary answers in one analysis window, for the gates to judge.

Needs KServe's tag routing (annotation ``serving.kserve.io/enable-tag-routing: "true"``): the canary is the
``latestRevision`` target of ``status.components.predictor.traffic`` (tag ``latest``), the stable revision the
one tagged ``prev``, and each tag's ``url`` host reaches its revision alone through the Istio gateway
(kserve/kserve@v0.20.0:docs/samples/v1beta1/rollout/README.md, "Tag based routing").

The window: ``requests`` predict calls **directly** to each revision (its tag host), interleaved so drift hits
both alike, each carrying one row of the hold-out set the model build kept beside the model
(kslab/modelbuild/holdout.py; every version of a model holds out the same rows); then ``split_requests`` calls
**through the split** (the InferenceService's own host), counted per revision from each predictor pod's
``request_predict_seconds_count`` as the traffic-split observer does.

Before the window, ``warmup`` calls (2) go to each revision and are not counted: a revision's first answers
include its model server's own first-call costs, which would otherwise be read as its p99.

Options: requests (60 per revision), split_requests (60; 0: skip), concurrency (4), warmup (2 per revision),
holdout (the build version whose holdout.json to use, v1), model (the catalog model, default the
InferenceService's name), z (3.29).

Result: roles{stable, canary}; revisions{<revision>: role, host, requests, errors, error_rate, errors_by_status,
latency_ms[] (successful calls), p50_ms, p99_ms, labelled, correct, accuracy}; agreement{rows, agree, rate}
(hold-out rows both revisions answered, and answered alike); split{requests, errors, error_rate, p50_ms, p99_ms,
accuracy, revisions, within_tolerance, tolerance_points} (the traffic-split comparison of the routed share);
holdout{version, rows}.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from kslab.errors import CheckFailed, KslabError
from kslab.inference.client import InferenceClient
from kslab.models.endpoint import Endpoint
from kslab.scenarios.context import ScenarioContext
from kslab.scenarios.gates import quantile
from kslab.scenarios.observers import podmetrics
from kslab.scenarios.observers.common import configured_split, endpoint, number, predictor_status, read_isvc
from kslab.scenarios.observers.split import compare
from kslab.scenarios.observers.stats import Z_999

SPLIT = "split"


@dataclasses.dataclass(frozen=True)
class Call:
    """One predict call of the window: which target, which hold-out row, what came back."""

    target: str  # a revision name, or SPLIT
    row: int
    ok: bool
    latency_ms: float | None = None
    answer: int | None = None
    status: str = ""


def tagged_revisions(isvc: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{"canary": {revision, host}, "stable": {...}} from the predictor's traffic; a role without a tag URL
    is left out (the caller says what is missing)."""
    out: dict[str, dict[str, str]] = {}
    for target in predictor_status(isvc).get("traffic") or []:
        role = "canary" if target.get("latestRevision") else "stable" if target.get("tag") == "prev" else None
        host = urlsplit(str(target.get("url") or "")).hostname
        if role and target.get("revisionName") and host and role not in out:
            out[role] = {"revision": str(target["revisionName"]), "host": host}
    return out


def _answer(result: Any) -> int | None:
    predictions = result.predictions or []
    try:
        return int(predictions[0])
    except (IndexError, TypeError, ValueError):
        return None


class Window:
    """Sends the window's calls with ``concurrency`` threads, one client per (thread, target)."""

    def __init__(self, ctx: ScenarioContext, base: Endpoint, hosts: dict[str, str | None],
                 rows: Sequence[Sequence[float]]) -> None:
        self.ctx, self.rows = ctx, rows
        self.endpoints = {t: dataclasses.replace(base, host=h) if h else base for t, h in hosts.items()}
        self.local = threading.local()
        self.clients: list[InferenceClient] = []
        self.lock = threading.Lock()

    def _client(self, target: str) -> InferenceClient:
        mine = self.local.__dict__.setdefault("clients", {})
        if target not in mine:
            client = InferenceClient(self.endpoints[target], attempts=1,
                                     timeout_s=float(self.ctx.settings.timeouts.request))
            with self.lock:
                self.clients.append(client)
            mine[target] = client
        return mine[target]

    def call(self, target: str, row: int) -> Call:
        if self.ctx.stop.is_set():
            return Call(target, row, False, status="stopped")
        try:
            result = self._client(target).predict([list(self.rows[row])])
        except KslabError as exc:  # no connection / no answer within the request timeout
            return Call(target, row, False, status=exc.message[:120])
        if not result.ok:
            return Call(target, row, False, status=str(result.status_code))
        return Call(target, row, True, result.latency_ms, _answer(result), "200")

    def run(self, work: list[tuple[str, int]], concurrency: int) -> list[Call]:
        try:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="kslab-canary-analysis") as pool:
                calls = list(pool.map(lambda item: self.call(*item), work))
        finally:
            with self.lock:
                done, self.clients = self.clients, []
            for client in done:
                client.close()
        if self.ctx.stop.is_set():
            raise KeyboardInterrupt  # Ctrl-C during the window: the scenario stops here
        return calls


def summarize(calls: Sequence[Call], labels: Sequence[int]) -> dict[str, Any]:
    """Counts, error rate, latency quantiles and hold-out accuracy of one target's calls."""
    latencies = [c.latency_ms for c in calls if c.ok and c.latency_ms is not None]
    answered = [c for c in calls if c.ok and c.answer is not None]
    correct = sum(1 for c in answered if c.answer == labels[c.row])
    by_status: dict[str, int] = {}
    for c in calls:
        if not c.ok:
            by_status[c.status] = by_status.get(c.status, 0) + 1
    errors = sum(by_status.values())
    return {"requests": len(calls), "errors": errors, "error_rate": round(errors / len(calls), 4) if calls else None,
            "errors_by_status": by_status, "latency_ms": [round(v, 3) for v in latencies],
            "p50_ms": round(quantile(latencies, 0.5), 3) if latencies else None,
            "p99_ms": round(quantile(latencies, 0.99), 3) if latencies else None,
            "labelled": len(answered), "correct": correct,
            "accuracy": round(correct / len(answered), 4) if answered else None}


def agreement(calls: Sequence[Call], first: str, second: str) -> dict[str, Any]:
    """Hold-out rows both revisions answered, and how many they answered alike (first answer per row)."""
    answers: dict[str, dict[int, int]] = {first: {}, second: {}}
    for c in calls:
        if c.target in answers and c.ok and c.answer is not None:
            answers[c.target].setdefault(c.row, c.answer)
    rows = sorted(set(answers[first]) & set(answers[second]))
    agree = sum(1 for r in rows if answers[first][r] == answers[second][r])
    return {"rows": len(rows), "agree": agree, "rate": round(agree / len(rows), 4) if rows else None}


def observe_canary_analysis(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    from kslab.modelbuild.builder import ensure_build
    from kslab.modelbuild.holdout import read_holdout

    per_revision = int(number(options, "requests", 60, 1))
    split_requests = int(number(options, "split_requests", 60, 0))
    concurrency = int(number(options, "concurrency", 4, 1))
    warmup = int(number(options, "warmup", 2, 0))
    version = str(options.get("holdout") or "v1")
    holdout = read_holdout(ensure_build(ctx.session.state_dir, str(options.get("model") or ctx.isvc),
                                        version).model_dir)
    isvc = read_isvc(ctx)
    roles = tagged_revisions(isvc)
    missing = [role for role in ("canary", "stable") if role not in roles]
    if missing:
        raise CheckFailed(f"{ctx.isvc}: no tag URL for the {' and '.join(missing)} revision in "
                          f"status.components.predictor.traffic ({predictor_status(isvc).get('traffic')})",
                          "annotate serving.kserve.io/enable-tag-routing: \"true\" and roll a canary out "
                          "(canaryTrafficPercent below 100) before analysing it")
    stable, canary = roles["stable"]["revision"], roles["canary"]["revision"]
    n = len(holdout.rows)
    direct = [(roles[role]["revision"], i % n) for i in range(per_revision) for role in ("stable", "canary")]
    kube = ctx.kube()
    with endpoint(ctx) as base:
        window = Window(ctx, base, {stable: roles["stable"]["host"], canary: roles["canary"]["host"], SPLIT: None},
                        holdout.rows)
        window.run([(rev, i % n) for i in range(warmup) for rev in (stable, canary)], concurrency)
        ctx.mark(f"canary-analysis: {per_revision} requests to each of {stable}, {canary}")
        calls = window.run(direct, concurrency)
        before = podmetrics.snapshot(kube, ctx.namespace, ctx.isvc)
        ctx.mark(f"canary-analysis: {split_requests} requests through the split")
        split_calls = window.run([(SPLIT, i % n) for i in range(split_requests)], concurrency)
        after = podmetrics.snapshot(kube, ctx.namespace, ctx.isvc)
    revisions = {}
    for role, rev in (("stable", stable), ("canary", canary)):
        revisions[rev] = {"role": role, "host": roles[role]["host"],
                          **summarize([c for c in calls if c.target == rev], holdout.labels)}
    split: dict[str, Any] = {}
    if split_requests:
        counts = {rev: d["requests"] for rev, d in podmetrics.delta(before, after).items()}
        configured = configured_split(read_isvc(ctx))
        split = {**summarize(split_calls, holdout.labels), **compare(counts, configured, number(options, "z", Z_999)),
                 "configured": configured}
    return {"roles": {"stable": stable, "canary": canary}, "revisions": revisions,
            "agreement": agreement(calls, stable, canary), "split": split,
            "holdout": {"version": version, "rows": n}}
