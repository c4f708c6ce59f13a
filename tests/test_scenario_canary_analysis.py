"""The gated canary (`canary-analysis`) end to end on the fake cluster with real model servers.

A good v2 is promoted to 100 %; a v2 trained on shuffled labels is rolled back at the first stage on accuracy;
a slow v2 (harness knob) on p99; an erroring v2 on error rate. Every rollback is checked by the measured split:
all requests counted by revision -00001's own pod after canaryTrafficPercent 0.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.leak_guard import leftover_pids
from tests.scenario_harness.fixture import (  # noqa: F401  (fixtures)
    MODEL2_URIS,
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)
from tests.scenario_harness.traffic import burst, predict

pytest.importorskip("sklearn")

REV1, REV2 = "sklearn-iris-predictor-00001", "sklearn-iris-predictor-00002"
SMALL = ("--set", "requests=45", "--set", "split_requests=40", "--set", "min_samples=40",
         "--set", "split_check_requests=150", "--set", "ready_timeout=30s")


def run(harness: ScenarioLab, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, dict[str, Any]]:
    code, out, err = harness.kslab(capsys, "scenario", "run", "canary-analysis", *SMALL, *argv)
    [entry] = harness.lab.record()["scenarios"]
    return code, out + err, entry


def step(entry: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in entry["steps"] if s["name"] == name]
    return found


def gate(result: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [g for g in result["gates"] if g["name"] == name]
    return found


def assert_no_leftovers(harness: ScenarioLab) -> None:
    """No kubectl port-forward of the run (analysis windows, split measurements) outlives it. (The model servers
    behind pvc:// revisions are the harness pool's, kept for the session.)"""
    marker = str(harness.lab.tmp_path)
    deadline = time.monotonic() + 5
    while leftover_pids(marker, ("port-forward",), children=False) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftover_pids(marker, ("port-forward",), children=False) == []


def assert_rolled_back(entry: dict[str, Any]) -> None:
    """catch rolled back, status put all traffic on -00001, and the pods' own counters say so too."""
    assert entry["verdict"] == "failed"
    for name in ("rollback", "rolled back ready", "revision 1 takes all traffic", "split after rollback",
                 "all traffic back on v1"):
        assert step(entry, name)["result"] == "ok", (name, step(entry, name)["error"])
    assert step(entry, "rollback")["phase"] == "catch"
    split = step(entry, "split after rollback")["observations"]
    assert split["configured"] == {REV1: 100, REV2: 0}
    assert split["total"] == 150 and split["revisions"][REV1]["requests"] == 150
    assert split["revisions"][REV1]["observed_percent"] == 100.0 and split["within_tolerance"] is True
    assert not any(s["name"] == "promote" for s in entry["steps"])


def test_a_good_v2_is_promoted_on_evidence(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code, output, entry = run(scenario_lab, capsys, "-o", "json")
    assert code == 0, (entry["reason"], output)
    assert entry["verdict"] == "passed"
    for stage, final in (("first", False), ("middle", True)):
        judged = step(entry, f"gates at {stage} stage")["observations"]
        assert judged["status"] == "pass", judged["gates"]
        assert judged["decision"] == ("promote" if final else "continue") and judged["final"] is final
        assert (judged["canary"], judged["stable"]) == (REV2, REV1)
        analysis = step(entry, f"analyse at {stage} stage")["observations"]
        for rev in (REV1, REV2):
            measured = analysis["revisions"][rev]
            assert measured["requests"] == 45 and measured["errors"] == 0 and len(measured["latency_ms"]) == 45
            assert measured["labelled"] == 45 and measured["accuracy"] >= 0.95
        assert analysis["revisions"][REV1]["host"] == "prev-sklearn-iris-predictor.kserve-test.example.com"
        assert analysis["revisions"][REV2]["host"] == "latest-sklearn-iris-predictor.kserve-test.example.com"
        assert analysis["agreement"]["rows"] == 45 and analysis["agreement"]["rate"] >= 0.95
        assert analysis["split"]["requests"] == 40 and analysis["split"]["total"] == 40
        assert analysis["split"]["within_tolerance"] is True
    middle = step(entry, "analyse at middle stage")["observations"]["split"]
    assert middle["configured"] == {REV1: 50, REV2: 50}
    promoted = step(entry, "split after promotion")["observations"]
    assert promoted["revisions"][REV2]["observed_percent"] == 100.0 and promoted["total"] == 150
    assert not any(s["phase"] == "catch" for s in entry["steps"])
    assert time.monotonic() - started < 60
    assert_no_leftovers(scenario_lab)


def test_a_worse_model_is_rolled_back_at_the_first_stage_on_accuracy(
        scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, entry = run(scenario_lab, capsys, "--set", "canary_version=v2-bad")
    assert code == 1, (entry["reason"], output)
    judged = step(entry, "gates at first stage")
    assert judged["result"] == "failed"
    accuracy = gate(judged["observations"], "accuracy")
    assert accuracy["status"] == "fail" and accuracy["stable"] == 1.0 and accuracy["bound"] == 0.98
    assert accuracy["observed"] <= 0.5 and accuracy["samples"] == {"canary": 45, "stable": 45}
    assert accuracy["evidence"]["n"] == 45
    assert gate(judged["observations"], "error rate")["status"] == "pass"  # it answers; it answers wrong
    assert gate(judged["observations"], "agreement")["status"] == "fail"
    assert judged["observations"]["decision"] == "rollback"
    assert "gates failed at stage 10" in entry["reason"] and "accuracy fail: expected accuracy ≥ stable" in \
        entry["reason"]
    assert not any(s["name"] == "analyse at middle stage" for s in entry["steps"])
    assert_rolled_back(entry)
    assert_no_leftovers(scenario_lab)
    assert_reported(scenario_lab, entry)


def assert_reported(harness: ScenarioLab, entry: dict[str, Any]) -> None:
    """The report's measurement tables (markdown and HTML) carry the stage's gates and the per-revision
    analysis; the HTML report adds the latency/accuracy figure."""
    from kslab.report.measurements import scenario_measurements
    from kslab.report.record import read_scenario
    from kslab.report.render import render_all

    written = render_all(harness.lab.records()[-1].parent, ("md", "html"))
    markdown, html = written["md"].read_text(), written["html"].read_text()
    for text in (markdown, html):
        assert "gates at first stage: gates at stage 10: fail -&gt; rollback" in text.replace("->", "-&gt;")
        assert "analyse at first stage: per revision (agreement" in text
    assert f'alt="Latency and hold-out accuracy per revision — {entry["name"]}" src="data:image/png;base64,' in html

    tables = {title: (headers, rows) for title, headers, rows in scenario_measurements(entry)}
    [gates_title] = [t for t in tables if t.startswith("gates at first stage: gates at stage 10: fail -> rollback")]
    headers, rows = tables[gates_title]
    assert headers == ["gate", "status", "expected", "observed", "samples", "reason"]
    by_gate = {row[0]: row for row in rows}
    assert by_gate["accuracy"][1:3] == ["fail", "accuracy ≥ stable - 0.02 (0.98)"]
    assert by_gate["accuracy"][4] == "canary 45 / stable 45"
    [analysis_title] = [t for t in tables if t.startswith("analyse at first stage: per revision (agreement ")]
    revisions = {row[0]: row for row in tables[analysis_title][1]}
    assert revisions[REV1][1] == "stable" and revisions[REV1][7] == 1.0 and revisions[REV2][7] <= 0.5
    assert "(through the split)" in revisions
    from kslab.report.gates import revision_plot

    assert revision_plot(read_scenario(entry, 0)).startswith(b"\x89PNG")


def test_a_slow_canary_is_rolled_back_on_p99(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    scenario_lab.slow_revision(REV2, 0.25)
    code, output, entry = run(scenario_lab, capsys)
    assert code == 1, (entry["reason"], output)
    judged = step(entry, "gates at first stage")["observations"]
    p99 = gate(judged, "p99 latency")
    assert p99["status"] == "fail" and p99["observed"] >= 250 and p99["evidence"]["margin_ci_ms"][0] > 0
    assert gate(judged, "accuracy")["status"] == "pass" and gate(judged, "error rate")["status"] == "pass"
    assert "p99 latency fail" in entry["reason"]
    assert_rolled_back(entry)
    assert_no_leftovers(scenario_lab)


def test_an_erroring_canary_is_rolled_back_on_error_rate(scenario_lab: ScenarioLab,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    scenario_lab.fail_revision(REV2, 0.3)
    code, output, entry = run(scenario_lab, capsys)
    assert code == 1, (entry["reason"], output)
    judged = step(entry, "gates at first stage")["observations"]
    errors = gate(judged, "error rate")
    assert errors["status"] == "fail" and errors["observed"] >= 0.1 and errors["bound"] == 0.01
    analysis = step(entry, "analyse at first stage")["observations"]
    assert set(analysis["revisions"][REV2]["errors_by_status"]) == {"500"}
    assert analysis["revisions"][REV1]["errors"] == 0
    assert "error rate fail" in entry["reason"]
    assert_rolled_back(entry)
    assert_no_leftovers(scenario_lab)


def test_too_few_samples_never_promote(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    """45 calls per revision against min_samples 100: inconclusive at 10 % (the rollout goes on to gather more),
    inconclusive again at 50 %, the final stage, so the canary is rolled back rather than promoted on no
    evidence."""
    code, output, entry = run(scenario_lab, capsys, "--set", "min_samples=100")
    assert code == 1, (entry["reason"], output)
    first = step(entry, "gates at first stage")
    assert first["result"] == "ok"
    assert (first["observations"]["status"], first["observations"]["decision"]) == ("inconclusive", "continue")
    assert {g["status"] for g in first["observations"]["gates"]} == {"inconclusive"}
    middle = step(entry, "gates at middle stage")
    assert middle["result"] == "failed" and middle["observations"]["decision"] == "rollback"
    assert "gates inconclusive at the final stage (promotion needs evidence) at stage 50" in entry["reason"]
    assert "too few samples (canary 45, stable 45; at least 100 needed)" in entry["reason"]
    assert_rolled_back(entry)
    assert_no_leftovers(scenario_lab)


def test_the_fault_knobs_hit_only_their_revision(scenario_lab: ScenarioLab) -> None:
    """Pin the harness knobs: slow_revision adds its delay and fail_revision its share of 500s to requests routed
    to that revision only, whether they come through the split or its tag host."""
    scenario_lab.deploy()
    scenario_lab.canary(50)
    scenario_lab.slow_revision(REV2, 0.2)
    scenario_lab.fail_revision(REV2, 0.5)
    url = scenario_lab.router.url
    host = "sklearn-iris.kserve-test.example.com"
    before = dict(scenario_lab.router.routed)
    started = time.monotonic()
    codes = burst(80, 8, lambda: predict(url, host))
    took = time.monotonic() - started
    routed = {rev: scenario_lab.router.routed.get(("kserve-test", rev), 0) - before.get(("kserve-test", rev), 0)
              for rev in (REV1, REV2)}
    assert sum(routed.values()) == 80 and routed[REV2] > 20, (routed, {c: codes.count(c) for c in set(codes)})
    assert set(codes) == {200, 500}
    assert 0.25 * routed[REV2] <= codes.count(500) <= 0.75 * routed[REV2]  # about half of REV2's, none of REV1's
    assert took >= 0.2 * routed[REV2] / 8  # each REV2 request waited 0.2 s
    scenario_lab.slow_revision(REV2, 0)
    scenario_lab.fail_revision(REV2, 0)
    assert set(burst(20, 4, lambda: predict(url, host))) == {200}
