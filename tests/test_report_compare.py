"""kslab report --compare BASELINE: per-metric changes, and exit 1 when a report.thresholds limit is crossed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.report_support import load_of, read, real_load_run, run_id, with_scenarios, write_run

BASE, CURRENT = run_id(0, "load", "base"), run_id(60, "load", "curr")


@pytest.fixture
def baseline(tmp_path_factory, tmp_path, monkeypatch) -> dict:
    """A real `kslab load` record with scenario entries, stored as the baseline run in an empty directory."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_STEP_SUMMARY", "KSLAB_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    record = with_scenarios(read(real_load_run(tmp_path_factory)))
    write_run(tmp_path / "reports", record, BASE)
    return record


def _current(tmp_path: Path, record: dict) -> None:
    write_run(tmp_path / "reports", record, CURRENT)


def _compare(capsys, *extra: str) -> tuple[int, dict, str]:
    code = run(["report", CURRENT, "--compare", BASE, "-o", "json", *extra])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def _rows(result: dict) -> dict[str, dict]:
    return {row["metric"]: row for row in result["rows"]}


def test_an_unchanged_run_passes(baseline, tmp_path, capsys):
    _current(tmp_path, baseline)
    code, result, err = _compare(capsys)
    assert code == ExitCode.OK, err
    rows = _rows(result)
    assert result["regressed"] is False and result["regressions"] == []
    assert rows["load.p99_ms"]["change_pct"] == 0 and rows["load.p99_ms"]["threshold"] == "+20 %"
    assert rows["load.throughput_rps"]["threshold"] == "-20 %"
    assert rows["scenario canary"]["verdict"] == rows["scenario autoscale"]["verdict"] == "ok"  # failed in both


def test_a_30_percent_p99_regression_fails_and_names_the_metric(baseline, tmp_path, capsys):
    current = copy.deepcopy(baseline)
    latency = load_of(current)["latency"]
    latency["p99_ms"] *= 1.3
    _current(tmp_path, current)
    code, result, err = _compare(capsys)
    assert code == ExitCode.CHECK_FAILED
    row = _rows(result)["load.p99_ms"]
    assert row["verdict"] == "regression" and row["change_pct"] == 30
    assert [r for r in result["rows"] if r["verdict"] == "regression"] == [row]
    assert err.splitlines()[0] == "error: regression against the baseline: load.p99_ms +30 % (threshold +20 %)"


def test_the_thresholds_come_from_kslab_yaml(baseline, tmp_path, capsys):
    current = copy.deepcopy(baseline)
    load_of(current)["latency"]["p99_ms"] *= 1.3
    _current(tmp_path, current)
    (tmp_path / "kslab.yaml").write_text("report:\n  thresholds:\n    p99_increase_pct: 50\n")
    code, result, err = _compare(capsys)
    assert code == ExitCode.OK, err
    assert _rows(result)["load.p99_ms"]["threshold"] == "+50 %"


def test_a_throughput_drop_fails(baseline, tmp_path, capsys):
    current = copy.deepcopy(baseline)
    load = load_of(current)
    load["throughput_rps"] = round(load["throughput_rps"] * 0.7, 1)
    _current(tmp_path, current)
    code, result, _ = _compare(capsys)
    assert code == ExitCode.CHECK_FAILED
    assert [r["metric"] for r in result["rows"] if r["verdict"] == "regression"] == ["load.throughput_rps"]


def test_a_newly_failing_scenario_fails_unless_switched_off(baseline, tmp_path, capsys):
    current = copy.deepcopy(baseline)
    current["scenarios"][0]["verdict"] = "failed"  # canary passed in the baseline
    _current(tmp_path, current)
    code, result, err = _compare(capsys)
    assert code == ExitCode.CHECK_FAILED
    assert result["regressions"] == ["scenario canary newly failed (was passed)"]
    assert "autoscale" not in err  # failing in both runs: not new
    (tmp_path / "kslab.yaml").write_text("report:\n  thresholds:\n    scenario_newly_failing: false\n")
    code, result, _ = _compare(capsys)
    assert code == ExitCode.OK and _rows(result)["scenario canary"]["verdict"] == "newly failing"


def test_an_incomplete_current_run_fails_the_gate(baseline, tmp_path, capsys):
    current = copy.deepcopy(baseline)
    current["result"], current["finished_at"] = "interrupted", None
    _current(tmp_path, current)
    code, result, _ = _compare(capsys)
    assert code == ExitCode.CHECK_FAILED and result["regressions"] == [f"run {CURRENT} is incomplete (result "
                                                                       "interrupted)"]


def test_the_table_shows_each_metric(baseline, tmp_path, capsys):
    _current(tmp_path, baseline)
    assert run(["report", CURRENT, "--compare", BASE]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "load.p99_ms" in out and "load@c3.throughput_rps" in out and "+0 %" in out
