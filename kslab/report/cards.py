"""The numbers a reader looks for first, as cards at the top of the HTML page: the verdict, p50/p99, throughput,
availability, deployment time, smoke checks and scenarios; each from the same summary the tables use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kslab.report.summary import INCOMPLETE


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    detail: str
    tone: str = "neutral"  # ok, failed, warn or neutral: the card's colour


def _primary_load(summary: dict[str, Any]) -> dict[str, Any] | None:
    loads = summary["loads"]
    return next((ld for ld in loads if ld.get("scenario") is None), loads[0] if loads else None)


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def _verdict(summary: dict[str, Any]) -> Card:
    result = summary.get("result") or "unknown"
    if not summary["complete"]:
        return Card("Verdict", "INCOMPLETE", f"the run did not finish (result {result})", "warn")
    tone = "ok" if result == "ok" else "warn" if result in INCOMPLETE else "failed"
    return Card("Verdict", "PASS" if result == "ok" else result.upper(),
                f"kslab {summary.get('command') or '?'} on {summary.get('provider') or '?'}", tone)


def _load_cards(load: dict[str, Any]) -> list[Card]:
    latency = load.get("latency") or {}
    where = f"{load['key']}: {load.get('mode') or '?'}, up to {load.get('connections') or '?'} connections"
    rps = load.get("throughput_rps")
    requests, ok = load.get("requests") or 0, load.get("ok") or 0
    availability = 100.0 * ok / requests if requests else None
    tone = "neutral" if availability is None else "ok" if availability >= 99.9 else "failed"
    return [
        Card("Latency p50 / p99", f"{_number(latency.get('p50_ms'))} / {_number(latency.get('p99_ms'))} ms",
             f"{latency.get('count') or 0} requests; {where}"),
        Card("Throughput", "-" if rps is None else f"{rps:,.0f} req/s", f"{requests} requests after warm-up"),
        Card("Availability", "-" if availability is None else f"{availability:.2f} %",
             f"{ok} of {requests} answered OK", tone),
    ]


def _headline_value(summary: dict[str, Any], metric: str) -> dict[str, str] | None:
    return next((row for row in summary["headline"] if row["metric"] == metric), None)


def cards(summary: dict[str, Any]) -> list[Card]:
    out = [_verdict(summary)]
    load = _primary_load(summary)
    if load is not None and load.get("latency"):
        out += _load_cards(load)
    deploy = _headline_value(summary, "Deployment time")
    if deploy is not None:
        out.append(Card("Deployment time", deploy["value"], deploy["detail"]))
    checks = summary["checks"]
    if checks["total"]:
        out.append(Card("Smoke checks", f"{checks['passed']}/{checks['total']}", "known-answer predictions",
                        "ok" if not checks["failed"] else "failed"))
    scenarios = summary["scenarios"]
    if scenarios:
        failing = [s["name"] for s in scenarios if s["verdict"] in ("failed", "error")]
        passed = sum(1 for s in scenarios if s["verdict"] == "passed")
        out.append(Card("Scenarios", f"{passed}/{len(scenarios)} passed",
                        f"failing: {', '.join(failing)}" if failing else "none failing",
                        "failed" if failing else "ok"))
    return out
