"""Gate evaluation (kslab/scenarios/gates.py) on recorded samples: boundaries, too few samples, the p99 test."""

from __future__ import annotations

import random

import pytest

from kslab.errors import UsageError
from kslab.scenarios import gates as G

# Latencies recorded from the scenario harness (ms, direct tag-host requests to one sklearn-iris revision on a
# busy 2-core machine), and the same revision with the harness's slow knob at +250 ms.
STABLE_MS = (9.8, 10.4, 11.2, 9.1, 12.7, 10.0, 9.6, 10.9, 11.8, 10.2, 9.9, 13.5, 10.6, 9.4, 10.1, 11.1, 10.8, 9.7,
             12.1, 10.3, 10.5, 9.5, 11.4, 10.7, 9.9, 10.0, 14.2, 10.2, 9.8, 11.0, 10.4, 10.6, 9.3, 12.4, 10.1, 10.9,
             9.7, 11.6, 10.3, 10.0, 9.6, 10.8, 11.3, 10.2, 9.9, 10.5, 12.9, 10.1, 9.8, 10.7)
SLOW_MS = tuple(v + 250.0 for v in STABLE_MS)


def gate(**spec: object) -> G.Gate:
    return G.parse_gates([spec])[0]


def samples(n: int, errors: int = 0, latencies: tuple[float, ...] = (), labelled: int = 0,
            correct: int = 0) -> G.Samples:
    return G.Samples(requests=n, errors=errors, latencies_ms=latencies, labelled=labelled, correct=correct)


# -- error rate -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("errors", "status"), [(0, "pass"), (1, "pass"), (2, "fail")])
def test_error_rate_at_the_boundary(errors: int, status: str) -> None:
    result = G.evaluate_gate(gate(metric="error_rate", at_most=0.01, min_samples=100), samples(100, errors), None)
    assert result.status == status
    assert result.observed == errors / 100 and result.bound == 0.01
    assert result.evidence["n"] == 100 and result.evidence["hits"] == errors


def test_too_few_samples_is_inconclusive_never_pass() -> None:
    rule = gate(metric="error_rate", at_most=0.01, min_samples=50)
    assert G.evaluate_gate(rule, samples(49), None).status == "inconclusive"
    assert G.evaluate_gate(rule, samples(50), None).status == "pass"
    result = G.evaluate_gate(rule, samples(0), None)
    assert result.status == "inconclusive" and "too few samples (canary 0" in result.reason


def test_a_relative_gate_needs_the_stable_samples_too() -> None:
    rule = gate(metric="p99_ms", at_most="stable", factor=1.2, min_samples=30)
    canary = samples(50, latencies=STABLE_MS)
    assert G.evaluate_gate(rule, canary, None).status == "inconclusive"
    result = G.evaluate_gate(rule, canary, samples(20, latencies=STABLE_MS[:20]))
    assert result.status == "inconclusive" and "stable 20" in result.reason


# -- accuracy -------------------------------------------------------------------------------------------------
def test_accuracy_two_points_below_stable_is_the_boundary() -> None:
    rule = gate(metric="accuracy", at_least="stable", offset=-0.02, min_samples=40)
    stable = samples(50, labelled=50, correct=50)
    at_bound = G.evaluate_gate(rule, samples(50, labelled=50, correct=49), stable)  # 0.98 = 1.0 - 0.02
    assert at_bound.status == "pass", at_bound.reason
    below = G.evaluate_gate(rule, samples(45, labelled=45, correct=44), stable)  # 0.978 < 0.98
    assert below.status == "fail" and below.bound == 0.98 and below.stable == 1.0
    assert below.expected == "accuracy ≥ stable - 0.02 (0.98)"


def test_shuffled_label_accuracy_fails_with_its_evidence() -> None:
    rule = gate(metric="accuracy", at_least="stable", offset=-0.02, min_samples=40)
    result = G.evaluate_gate(rule, samples(45, labelled=45, correct=12), samples(45, labelled=45, correct=45))
    assert result.status == "fail"
    assert result.observed == round(12 / 45, 4)
    high = result.evidence["wilson_95"][1]
    assert high < 0.5 < 0.98  # the whole interval is far below the bound


def test_agreement_is_an_absolute_bound() -> None:
    rule = gate(metric="agreement", at_least=0.95, min_samples=40)
    assert G.evaluate_gate(rule, samples(45), None, agreement=(43, 45)).status == "pass"
    assert G.evaluate_gate(rule, samples(45), None, agreement=(42, 45)).status == "fail"
    assert G.evaluate_gate(rule, samples(45), None, agreement=(39, 39)).status == "inconclusive"


# -- latency: the bootstrap test ------------------------------------------------------------------------------
def test_p99_of_the_same_latencies_passes() -> None:
    rule = gate(metric="p99_ms", at_most="stable", factor=1.2, min_samples=30)
    result = G.evaluate_gate(rule, samples(50, latencies=STABLE_MS[::-1]), samples(50, latencies=STABLE_MS))
    assert result.status == "pass", result.reason
    assert result.evidence["ratio"] == 1.0


def test_p99_of_a_slow_canary_fails_with_the_interval() -> None:
    rule = gate(metric="p99_ms", at_most="stable", factor=1.2, min_samples=30)
    result = G.evaluate_gate(rule, samples(50, latencies=SLOW_MS), samples(50, latencies=STABLE_MS))
    assert result.status == "fail", result.reason
    low, high = result.evidence["margin_ci_ms"]
    assert 0 < low <= high
    assert result.evidence["ratio"] > 10


def test_one_slow_outlier_is_not_evidence() -> None:
    """p99 of 50 samples is set by the two slowest: one 30 ms outlier lifts the canary's p99 past 1.2 x the
    stable's, but resamples without it are within, so it is not significantly worse: pass, saying so."""
    rule = gate(metric="p99_ms", at_most="stable", factor=1.2, min_samples=30)
    canary = (*STABLE_MS[:-1], 30.0)
    result = G.evaluate_gate(rule, samples(50, latencies=canary), samples(50, latencies=STABLE_MS))
    assert result.observed > result.bound
    assert result.status == "pass" and "but not significantly" in result.reason, result.reason
    low, high = result.evidence["margin_ci_ms"]
    assert low <= 0 < high


def test_bootstrap_is_seeded() -> None:
    rule = gate(metric="p99_ms", at_most="stable", factor=1.2)
    rng = random.Random(3)
    canary = [rng.gauss(11, 2) for _ in range(60)]
    assert G.bootstrap_margin(canary, STABLE_MS, rule) == G.bootstrap_margin(canary, STABLE_MS, rule)


def test_absolute_latency_bound() -> None:
    rule = gate(metric="p50_ms", at_most=100, min_samples=30)
    assert G.evaluate_gate(rule, samples(50, latencies=STABLE_MS), None).status == "pass"
    assert G.evaluate_gate(rule, samples(50, latencies=SLOW_MS), None).status == "fail"


def test_quantile_interpolates_like_numpy() -> None:
    assert G.quantile([1, 2, 3, 4], 0.5) == 2.5
    assert G.quantile([1, 2, 3, 4], 0.99) == pytest.approx(3.97)
    assert G.quantile([5], 0.99) == 5


# -- the stage -------------------------------------------------------------------------------------------------
ANALYSIS = {"roles": {"stable": "r-00001", "canary": "r-00002"},
            "revisions": {"r-00001": {"requests": 50, "errors": 0, "latency_ms": list(STABLE_MS), "labelled": 50,
                                      "correct": 50},
                          "r-00002": {"requests": 50, "errors": 0, "latency_ms": list(STABLE_MS), "labelled": 50,
                                      "correct": 50}},
            "agreement": {"rows": 45, "agree": 45}}
GATES = [{"name": "errors", "metric": "error_rate", "at_most": 0.01, "min_samples": 40},
         {"name": "p99", "metric": "p99_ms", "at_most": "stable", "factor": 1.2, "min_samples": 40},
         {"name": "accuracy", "metric": "accuracy", "at_least": "stable", "offset": -0.02, "min_samples": 40}]


@pytest.mark.parametrize(("status", "final", "decided"), [
    ("pass", False, "continue"), ("pass", True, "promote"), ("inconclusive", False, "continue"),
    ("inconclusive", True, "rollback"), ("fail", False, "rollback"), ("fail", True, "rollback")])
def test_decision(status: str, final: bool, decided: str) -> None:
    assert G.decision(status, final) == decided


def test_a_stage_passes_fails_or_is_inconclusive() -> None:
    rules = G.parse_gates(GATES)
    good = G.evaluate(rules, ANALYSIS, final=True)
    assert good["status"] == "pass" and good["decision"] == "promote"
    assert [g["status"] for g in good["gates"]] == ["pass", "pass", "pass"]
    bad = {**ANALYSIS, "revisions": {**ANALYSIS["revisions"], "r-00002": {
        **ANALYSIS["revisions"]["r-00002"], "errors": 10}}}
    failed = G.evaluate(rules, bad)
    assert failed["status"] == "fail" and failed["decision"] == "rollback" and failed["canary"] == "r-00002"
    few = {**ANALYSIS, "revisions": {**ANALYSIS["revisions"], "r-00002": {
        **ANALYSIS["revisions"]["r-00002"], "requests": 10, "latency_ms": list(STABLE_MS[:10]), "labelled": 10,
        "correct": 10}}}
    unsure = G.evaluate(rules, few, final=False)
    assert unsure["status"] == "inconclusive" and unsure["decision"] == "continue"
    assert G.evaluate(rules, few, final=True)["decision"] == "rollback"


def test_no_canary_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="no canary revision"):
        G.evaluate(G.parse_gates(GATES), {"roles": {"stable": "r-00001"}, "revisions": ANALYSIS["revisions"]})


@pytest.mark.parametrize(("spec", "message"), [
    ({"metric": "p95_ms", "at_most": 1}, "metric 'p95_ms' is not one of"),
    ({"metric": "error_rate"}, "exactly one of at_most, at_least"),
    ({"metric": "error_rate", "at_most": 0.1, "at_least": 0}, "exactly one of"),
    ({"metric": "error_rate", "at_most": "lots"}, "must be a number or 'stable'"),
    ({"metric": "error_rate", "at_most": 0.1, "factor": 2}, "factor and offset apply only"),
    ({"metric": "agreement", "at_least": "stable"}, "agreement is between the revisions"),
    ({"metric": "error_rate", "at_most": 0.1, "min_samples": 0}, "min_samples"),
    ({"metric": "error_rate", "at_most": 0.1, "treshold": 1}, "unknown key 'treshold'"),
])
def test_bad_gates_are_refused(spec: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        G.parse_gates([spec])


def test_gates_must_be_a_list_with_unique_names() -> None:
    with pytest.raises(UsageError, match="non-empty list"):
        G.parse_gates([])
    with pytest.raises(UsageError, match="used twice"):
        G.parse_gates([{"metric": "error_rate", "at_most": 0.1}, {"metric": "error_rate", "at_most": 0.2}])


def _scenario_with_gates(gates: list) -> dict:
    return {"name": "g", "params": {"limit": 0.01},
            "steps": [{"name": "analyse", "observe": "canary-analysis", "save": "analysis"},
                      {"name": "judge", "observe": "canary-gates", "with": {"analysis": "analysis", "gates": gates}}]}


@pytest.mark.parametrize(("gate", "message"), [
    ({"metric": "latency", "at_most": 1}, "metric 'latency' is not one of"),
    ({"metric": "error_rate", "at_most": 0.01, "at_least": 0}, "give exactly one of at_most, at_least"),
    ({"metric": "p99_ms", "at_most": "stable", "factr": 1.2}, "unknown key 'factr'"),
])
def test_scenario_validate_refuses_a_badly_written_gate_before_anything_runs(gate: dict, message: str) -> None:
    """`kslab scenario validate` (and every run, before its first step) reads the gates with the parameters'
    defaults: a bad gate is exit 2 naming the step and the field, not a failed step after the canary exists."""
    from kslab.scenarios.validate import validate

    with pytest.raises(UsageError, match=r'^scenarios/g.yaml: step 2 "judge": field "with.gates": gate 1'):
        validate(_scenario_with_gates([gate]), "scenarios/g.yaml")
    with pytest.raises(UsageError, match=message):
        validate(_scenario_with_gates([gate]), "scenarios/g.yaml")


def test_gates_written_with_parameters_are_read_with_their_defaults() -> None:
    from kslab.scenarios.validate import validate

    validate(_scenario_with_gates([{"metric": "error_rate", "at_most": "{limit}"}]), "scenarios/g.yaml")
    with pytest.raises(UsageError, match="at_most must be a number or 'stable'"):
        validate(_scenario_with_gates([{"metric": "error_rate", "at_most": "{limit}x"}]), "scenarios/g.yaml")
