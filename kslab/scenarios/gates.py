"""Canary gates: declared checks on what a canary analysis measured, each judged pass / fail / inconclusive.

Pure: no cluster, no I/O. A gate (the scenario YAML's ``gates:`` list, docs/scenarios.md) names a ``metric`` of
the canary revision and a bound, ``at_most`` or ``at_least``: a number, or ``stable`` for the stable
revision's own value times ``factor`` (1) plus ``offset`` (0). Examples::

    {name: errors, metric: error_rate, at_most: 0.01, min_samples: 50}
    {name: p99, metric: p99_ms, at_most: stable, factor: 1.2, min_samples: 50}
    {name: accuracy, metric: accuracy, at_least: stable, offset: -0.02, min_samples: 40}

Metrics: ``error_rate`` (failed / sent), ``accuracy`` (answers equal to the hold-out label / labelled answers),
``agreement`` (hold-out rows both revisions answered alike / rows both answered), ``p50_ms`` and ``p99_ms``.

Verdicts. Fewer than ``min_samples`` on the canary (or, for a ``stable`` bound, on the stable revision) is
**inconclusive**, never pass. Rates are compared as measured (accuracy and agreement on the fixed hold-out rows
have no sampling noise to test; the Wilson interval of each rate is kept as evidence). Latency quantiles are
noisy (a p99 of 60 calls is set by the slowest one or two), so one sample decides nothing: the margin (canary
quantile minus its bound, the bound moving with the stable quantile) is bootstrapped (``resamples`` draws of
both revisions' latencies, seeded), and the gate **fails** only when the whole ``confidence`` interval of the
margin lies beyond the bound (significantly worse, as Kayenta judges a canary); otherwise it **passes**, the
reason saying when the measured quantile was beyond the bound but not significantly.

A stage's evaluation fails when any gate fails, is inconclusive when none fails and any is inconclusive, and
passes otherwise. ``decision``: fail -> rollback; inconclusive -> rollback at the final stage (promotion
needs evidence), continue before it; pass -> promote at the final stage, continue before it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kslab.errors import UsageError

METRICS = ("error_rate", "accuracy", "agreement", "p50_ms", "p99_ms")
QUANTILES = {"p50_ms": 0.50, "p99_ms": 0.99}
COMPARATORS = ("at_most", "at_least")
GATE_KEYS = frozenset({"name", "metric", *COMPARATORS, "factor", "offset", "min_samples", "confidence",
                       "resamples"})
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
Z_95 = 1.96


@dataclass(frozen=True)
class Gate:
    name: str
    metric: str
    comparator: str  # at_most | at_least
    threshold: float | None  # an absolute bound; None: relative to the stable revision
    factor: float = 1.0
    offset: float = 0.0
    min_samples: int = 30
    confidence: float = 0.95
    resamples: int = 1000

    @property
    def relative(self) -> bool:
        return self.threshold is None

    def describe(self) -> str:
        sign = "≤" if self.comparator == "at_most" else "≥"
        if not self.relative:
            return f"{self.metric} {sign} {self.threshold:g}"
        parts = "stable" if self.factor == 1 else f"{self.factor:g} x stable"
        if self.offset:
            parts += f" {'+' if self.offset > 0 else '-'} {abs(self.offset):g}"
        return f"{self.metric} {sign} {parts}"


@dataclass(frozen=True)
class Samples:
    """What one revision answered in an analysis window."""

    requests: int = 0
    errors: int = 0
    latencies_ms: tuple[float, ...] = ()
    labelled: int = 0
    correct: int = 0

    @classmethod
    def from_analysis(cls, revision: Mapping[str, Any]) -> Samples:
        return cls(requests=int(revision.get("requests") or 0), errors=int(revision.get("errors") or 0),
                   latencies_ms=tuple(float(v) for v in revision.get("latency_ms") or ()),
                   labelled=int(revision.get("labelled") or 0), correct=int(revision.get("correct") or 0))


@dataclass(frozen=True)
class GateResult:
    name: str
    metric: str
    status: str  # pass | fail | inconclusive
    expected: str  # the bound in words, with the stable value it came from
    observed: float | None
    bound: float | None
    stable: float | None
    samples: dict[str, int]
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric, "status": self.status, "expected": self.expected,
                "observed": self.observed, "bound": self.bound, "stable": self.stable, "samples": self.samples,
                "reason": self.reason, "evidence": self.evidence}


def parse_gates(raw: Any) -> tuple[Gate, ...]:
    """The ``gates:`` list of a scenario; a wrong gate is a UsageError naming it and the key."""
    if not isinstance(raw, list) or not raw:
        raise UsageError("gates must be a non-empty list", "example: [{metric: error_rate, at_most: 0.01}]")
    gates, names = [], set()
    for i, spec in enumerate(raw, 1):
        where = f"gate {i}"
        if not isinstance(spec, Mapping):
            raise UsageError(f"{where}: expected a mapping, got {spec!r}")
        unknown = sorted(set(spec) - GATE_KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown key {unknown[0]!r}", f"keys: {', '.join(sorted(GATE_KEYS))}")
        metric = spec.get("metric")
        if metric not in METRICS:
            raise UsageError(f"{where}: metric {metric!r} is not one of {', '.join(METRICS)}")
        chosen = [c for c in COMPARATORS if c in spec]
        if len(chosen) != 1:
            raise UsageError(f"{where} ({metric}): give exactly one of at_most, at_least")
        bound = spec[chosen[0]]
        name = str(spec.get("name") or metric)
        if name in names:
            raise UsageError(f"{where}: gate name {name!r} is used twice")
        names.add(name)
        try:
            threshold = None if bound == "stable" else float(bound)
            gate = Gate(name=name, metric=str(metric), comparator=chosen[0], threshold=threshold,
                        factor=float(spec.get("factor", 1.0)), offset=float(spec.get("offset", 0.0)),
                        min_samples=int(spec.get("min_samples", 30)),
                        confidence=float(spec.get("confidence", 0.95)), resamples=int(spec.get("resamples", 1000)))
        except (TypeError, ValueError):
            raise UsageError(f"{where} ({name}): {chosen[0]} must be a number or 'stable'; factor, offset, "
                             "min_samples, confidence and resamples numbers") from None
        if threshold is None and metric == "agreement":
            raise UsageError(f"{where} ({name}): agreement is between the revisions already; give a number")
        if threshold is not None and ("factor" in spec or "offset" in spec):
            raise UsageError(f"{where} ({name}): factor and offset apply only to {chosen[0]}: stable")
        if gate.min_samples < 1 or not 0.5 <= gate.confidence < 1 or gate.resamples < 100:
            raise UsageError(f"{where} ({name}): min_samples ≥ 1, 0.5 ≤ confidence < 1, resamples ≥ 100")
        gates.append(gate)
    return tuple(gates)


# -- arithmetic -------------------------------------------------------------------------------------------------
def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def wilson(successes: int, total: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a rate; None without samples."""
    if total <= 0:
        return None
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def bootstrap_margin(canary: Sequence[float], stable: Sequence[float] | None, gate: Gate,
                     seed: int = 16) -> tuple[float, float]:
    """The ``gate.confidence`` percentile interval of the margin (how far the canary's quantile is beyond its
    bound; ≤ 0 is within), resampling both revisions' latencies ``gate.resamples`` times."""
    q = QUANTILES[gate.metric]
    rng = random.Random(seed)
    margins = []
    for _ in range(gate.resamples):
        value = quantile(rng.choices(canary, k=len(canary)), q)
        reference = quantile(rng.choices(stable, k=len(stable)), q) if stable else None
        margins.append(_margin(gate, value, reference))
    tail = (1 - gate.confidence) / 2
    return round(quantile(margins, tail), 3), round(quantile(margins, 1 - tail), 3)


def _bound(gate: Gate, stable_value: float | None) -> float | None:
    if not gate.relative:
        return gate.threshold
    return None if stable_value is None else gate.factor * stable_value + gate.offset


def _margin(gate: Gate, value: float, stable_value: float | None) -> float:
    bound = _bound(gate, stable_value)
    assert bound is not None
    return value - bound if gate.comparator == "at_most" else bound - value


def _rate(gate: Gate, samples: Samples, agreement: tuple[int, int]) -> tuple[float | None, int, int]:
    """(value, hits, n) of a rate metric."""
    if gate.metric == "error_rate":
        hits, n = samples.errors, samples.requests
    elif gate.metric == "accuracy":
        hits, n = samples.correct, samples.labelled
    else:
        hits, n = agreement
    return (hits / n if n else None), hits, n


def _count(gate: Gate, samples: Samples, agreement: tuple[int, int]) -> int:
    if gate.metric in QUANTILES:
        return len(samples.latencies_ms)
    return _rate(gate, samples, agreement)[2]


# -- evaluation -------------------------------------------------------------------------------------------------
def evaluate_gate(gate: Gate, canary: Samples, stable: Samples | None,
                  agreement: tuple[int, int] = (0, 0)) -> GateResult:
    """One gate on the canary's samples (and the stable revision's, for a ``stable`` bound)."""
    counts = {"canary": _count(gate, canary, agreement)}
    if gate.relative and gate.metric != "agreement":
        counts["stable"] = _count(gate, stable, agreement) if stable is not None else 0
    stable_value, value = _value(gate, stable, agreement), _value(gate, canary, agreement)
    bound = _bound(gate, stable_value)
    expected = gate.describe() + (f" ({bound:.4g})" if gate.relative and bound is not None else "")

    def result(status: str, reason: str, **evidence: Any) -> GateResult:
        return GateResult(gate.name, gate.metric, status, expected, _round(value), _round(bound),
                          _round(stable_value), counts, reason, evidence)

    short = {role: n for role, n in counts.items() if n < gate.min_samples}
    if short:
        said = ", ".join(f"{role} {n}" for role, n in short.items())
        return result(INCONCLUSIVE, f"too few samples ({said}; at least {gate.min_samples} needed)")
    if value is None or bound is None:
        return result(INCONCLUSIVE, "nothing to compare (no answers)")
    margin = _margin(gate, value, stable_value)
    if gate.metric not in QUANTILES:
        _, hits, n = _rate(gate, canary, agreement)
        evidence = {"hits": hits, "n": n, "wilson_95": wilson(hits, n), "margin": _round(margin)}
        if margin <= 1e-12:
            return result(PASS, f"{value:.4g} is within {expected}", **evidence)
        return result(FAIL, f"{value:.4g} is beyond {expected}", **evidence)
    low, high = bootstrap_margin(canary.latencies_ms, stable.latencies_ms if stable else None, gate)
    evidence = {"margin_ms": _round(margin), "margin_ci_ms": [low, high], "confidence": gate.confidence,
                "resamples": gate.resamples}
    if stable_value:
        evidence["ratio"] = round(value / stable_value, 3)
    if low > 0:
        return result(FAIL, f"{value:.4g} ms is beyond {expected}: the {gate.confidence:.0%} interval of the "
                            f"margin is [{low:g}, {high:g}] ms, all beyond", **evidence)
    if margin <= 0:
        return result(PASS, f"{value:.4g} ms is within {expected}", **evidence)
    return result(PASS, f"{value:.4g} ms is beyond {expected} but not significantly: the {gate.confidence:.0%} "
                        f"interval of the margin [{low:g}, {high:g}] ms reaches it", **evidence)


def _value(gate: Gate, samples: Samples | None, agreement: tuple[int, int]) -> float | None:
    if samples is None:
        return None
    if gate.metric in QUANTILES:
        return quantile(samples.latencies_ms, QUANTILES[gate.metric]) if samples.latencies_ms else None
    return _rate(gate, samples, agreement)[0]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def overall(results: Sequence[GateResult]) -> str:
    statuses = {r.status for r in results}
    return FAIL if FAIL in statuses else INCONCLUSIVE if INCONCLUSIVE in statuses else PASS


def decision(status: str, final: bool) -> str:
    """rollback | promote | continue (see the module doc)."""
    if status == FAIL or (status == INCONCLUSIVE and final):
        return "rollback"
    return "promote" if final else "continue"


def evaluate(gates: Sequence[Gate], analysis: Mapping[str, Any], final: bool = False) -> dict[str, Any]:
    """Every gate on a ``canary-analysis`` observation: {status, decision, final, canary, stable, gates[]}."""
    roles = analysis.get("roles") or {}
    revisions = analysis.get("revisions") or {}
    canary_name, stable_name = roles.get("canary"), roles.get("stable")
    if canary_name not in revisions:
        raise UsageError("the analysis has no canary revision to judge",
                         "run observe: canary-analysis while a canary is rolled out (canaryTrafficPercent)")
    canary = Samples.from_analysis(revisions[canary_name])
    stable = Samples.from_analysis(revisions[stable_name]) if stable_name in revisions else None
    agreed = analysis.get("agreement") or {}
    agreement = (int(agreed.get("agree") or 0), int(agreed.get("rows") or 0))
    results = [evaluate_gate(gate, canary, stable, agreement) for gate in gates]
    status = overall(results)
    return {"status": status, "decision": decision(status, final), "final": final, "canary": canary_name,
            "stable": stable_name, "gates": [r.to_dict() for r in results]}
