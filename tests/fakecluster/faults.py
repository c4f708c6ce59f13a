"""Fault injection for the fake API server: scripted errors, error rates, latency, dropped watches.

Each rule matches requests by a regular expression searched in the URL path (and optionally the
HTTP method). The server asks :meth:`FaultInjector.decide` once per request and gets back what to do:
answer with an error status instead of serving, sleep first, and/or cut a watch stream short.
Rules count the requests they matched so tests can assert that a client really retried.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

from .errors import ApiError

PASS = 0  # in a status sequence: serve this request normally

_REASONS = {
    400: ("BadRequest", "injected fault: bad request"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "injected fault: forbidden"),
    404: ("NotFound", "the server could not find the requested resource"),
    409: ("Conflict", "injected fault: conflict"),
    429: ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
    500: ("InternalError", "Internal error occurred: injected fault"),
    502: ("InternalError", "injected fault: bad gateway"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may still be "
                     "processing the request"),
}


def fault_error(code: int, retry_after: int | None = None) -> ApiError:
    """The ApiError (Status body + headers) a real apiserver would send for ``code``."""
    reason, message = _REASONS.get(code, ("Unknown", f"injected fault: HTTP {code}"))
    details: dict[str, object] | None = None
    headers: dict[str, str] = {}
    if retry_after is not None and (code == 429 or code >= 500):
        headers["Retry-After"] = str(retry_after)
        details = {"retryAfterSeconds": retry_after}
    if code == 429 and retry_after is None:
        headers["Retry-After"] = "1"
        details = {"retryAfterSeconds": 1}
    return ApiError(code, reason, message, details, headers)


@dataclass
class FaultRule:
    """One rule. ``matched`` counts every request the rule matched (served or failed)."""

    pattern: re.Pattern[str]
    method: str | None = None
    statuses: list[int] = field(default_factory=list)  # scripted sequence; PASS/200 serves normally
    rate: float = 0.0  # probability of failing with ``rate_status``
    rate_status: int = 500
    rng: random.Random | None = None
    latency: float = 0.0
    drop_watch_after: int | None = None
    abrupt: bool = False  # dropped watch: close the socket without the terminating chunk
    retry_after: int | None = None
    watch_only: bool = False
    matched: int = 0
    failed: int = 0

    def applies(self, method: str, path: str, is_watch: bool) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.watch_only and not is_watch:
            return False
        return self.pattern.search(path) is not None


@dataclass(frozen=True)
class Decision:
    error: ApiError | None = None
    latency: float = 0.0
    drop_watch_after: int | None = None
    abrupt: bool = False


class FaultInjector:
    """Thread-safe set of fault rules consulted by the server for every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []

    def _add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def fail(self, path: str, statuses: list[int], *, method: str | None = None,
             retry_after: int | None = None) -> FaultRule:
        """Answer matching requests with ``statuses`` in order (0 or 200 = serve normally); then pass."""
        return self._add(FaultRule(re.compile(path), method, statuses=list(statuses), retry_after=retry_after))

    def fail_rate(self, path: str, rate: float, *, status: int = 500, seed: int = 0, method: str | None = None,
                  retry_after: int | None = None) -> FaultRule:
        """Fail a fraction ``rate`` of matching requests, reproducibly (seeded RNG)."""
        return self._add(FaultRule(re.compile(path), method, rate=rate, rate_status=status,
                                   rng=random.Random(seed), retry_after=retry_after))

    def delay(self, path: str, seconds: float, *, method: str | None = None) -> FaultRule:
        """Sleep ``seconds`` before serving matching requests."""
        return self._add(FaultRule(re.compile(path), method, latency=seconds))

    def drop_watch(self, path: str, after_events: int, *, abrupt: bool = False) -> FaultRule:
        """End matching watch streams after ``after_events`` events (``abrupt``: as a broken connection)."""
        return self._add(FaultRule(re.compile(path), "GET", drop_watch_after=after_events, abrupt=abrupt,
                                   watch_only=True))

    def remove(self, rule: FaultRule) -> None:
        with self._lock:
            if rule in self.rules:
                self.rules.remove(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def count(self, rule: FaultRule) -> int:
        with self._lock:
            return rule.matched

    def decide(self, method: str, path: str, *, is_watch: bool = False) -> Decision:
        """What to do with one request. The first rule producing an error wins; latencies add up."""
        error: ApiError | None = None
        latency = 0.0
        drop: int | None = None
        abrupt = False
        with self._lock:
            for rule in self.rules:
                if not rule.applies(method, path, is_watch):
                    continue
                rule.matched += 1
                latency += rule.latency
                if rule.drop_watch_after is not None and drop is None:
                    drop, abrupt = rule.drop_watch_after, rule.abrupt
                code = 0
                if rule.statuses:
                    code = rule.statuses.pop(0)
                elif rule.rng is not None and rule.rng.random() < rule.rate:
                    code = rule.rate_status
                if code and code != 200 and error is None:
                    rule.failed += 1
                    error = fault_error(code, rule.retry_after)
        return Decision(error, latency, drop, abrupt)
