"""kslab report --compare BASELINE: per-metric changes, and exit 1 when a report.thresholds limit is crossed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.report_support import (
    load_of,
    read,
    real_load_run,
    run_id,
    with_scenarios,
    workdir_fixture,  # noqa: F401  (fixture registration)
    write_run,
)

BASE, CURRENT = run_id(0, "load", "ba5e"), run_id(60, "load", "c0de")
DATA = Path(__file__).parent / "report_data"


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


def _recorded(number: int) -> dict:
    """A real `kslab lab --provider local` record (profile 1,5,10,20@5s: 16 whole seconds after warm-up); 1 and 2
    were two identical runs 90 s apart on one machine."""
    return json.loads((DATA / f"lab-local-{number}.json").read_text())


def _scaled(record: dict, measure: str, factor: float) -> dict:
    """``record`` with every second's, every level's and the total's ``measure`` times ``factor``: a real change."""
    out = copy.deepcopy(record)
    load = load_of(out)
    for row in load["series"]:
        if measure == "p99_ms" and row["p99_ms"] is not None:
            row["p99_ms"] = round(row["p99_ms"] * factor, 3)
        if measure == "throughput_rps":
            row["requests"] = row["ok"] = round(row["requests"] * factor)
    for part in (load, *load["steps"]):
        if measure == "p99_ms" and part["latency"]["p99_ms"] is not None:
            part["latency"]["p99_ms"] = round(part["latency"]["p99_ms"] * factor, 3)
        if measure == "throughput_rps" and part["throughput_rps"] is not None:
            part["throughput_rps"] = round(part["throughput_rps"] * factor, 1)
    return out


def _write_pair(tmp_path: Path, old: dict, new: dict) -> None:
    write_run(tmp_path / "reports", old, BASE)
    write_run(tmp_path / "reports", new, CURRENT)


def test_two_identical_local_runs_minutes_apart_are_not_a_regression(workdir, capsys):
    """The issue's case: the totals' p99 differs by +50.6 % (and each level's by +23…+58 %) between two identical
    runs; the per-second samples show that is the machine's noise."""
    _write_pair(workdir, _recorded(2), _recorded(1))
    code, result, err = _compare(capsys)
    assert code == ExitCode.OK, err
    rows = _rows(result)
    p99 = rows["load.p99_ms"]
    assert p99["change_pct"] == 50.6 and p99["verdict"] == "within noise"
    noise = p99["per_second"]
    assert noise["baseline_seconds"] == noise["current_seconds"] == 16
    low, high = noise["ci95_pct"]  # each second's p99 was ~29 % higher: the machine was busier, but within noise
    assert low < 20 < noise["change_pct"] < high
    for level in (1, 5, 10, 20):  # 4 whole seconds a level: too few to tell a change from noise
        assert rows[f"load@c{level}.p99_ms"]["verdict"] == "too few samples"
    assert rows["load@c20.throughput_rps"]["change_pct"] == -39.4  # the old gate failed on this too
    assert "Welch" in result["method"] and result["min_seconds"] == 10


def test_a_50_percent_p99_regression_in_every_second_fails_and_names_the_metric(workdir, capsys):
    _write_pair(workdir, _recorded(1), _scaled(_recorded(1), "p99_ms", 1.5))
    code, result, err = _compare(capsys)
    assert code == ExitCode.CHECK_FAILED
    row = _rows(result)["load.p99_ms"]
    assert row["verdict"] == "regression" and row["change_pct"] == 50 and row["per_second"]["ci95_pct"][0] > 0
    assert [r for r in result["rows"] if r["verdict"] == "regression"] == [row]
    assert err.splitlines()[0] == ("error: regression against the baseline: load.p99_ms +50 % (per second +50 % "
                                   "[+23, +84] 16/16 s, 95 % CI; threshold +20 %)")


def test_the_thresholds_come_from_kslab_yaml(workdir, capsys):
    _write_pair(workdir, _recorded(1), _scaled(_recorded(1), "p99_ms", 1.5))
    (workdir / "kslab.yaml").write_text("report:\n  thresholds:\n    p99_increase_pct: 60\n")
    code, result, err = _compare(capsys)
    assert code == ExitCode.OK, err
    assert _rows(result)["load.p99_ms"]["threshold"] == "+60 %" and _rows(result)["load.p99_ms"]["verdict"] == "ok"


def test_a_throughput_drop_in_every_second_fails(workdir, capsys):
    _write_pair(workdir, _recorded(1), _scaled(_recorded(1), "throughput_rps", 0.6))
    code, result, _ = _compare(capsys)
    assert code == ExitCode.CHECK_FAILED
    assert [r["metric"] for r in result["rows"] if r["verdict"] == "regression"] == ["load.throughput_rps"]


def test_a_short_run_is_shown_but_not_gated_on_its_totals(baseline, tmp_path, capsys):
    """Two 1-second levels have no whole seconds to measure the noise with: the totals' +30 % is not a verdict."""
    current = copy.deepcopy(baseline)
    load_of(current)["latency"]["p99_ms"] *= 1.3
    _current(tmp_path, current)
    code, result, err = _compare(capsys)
    assert code == ExitCode.OK, err
    row = _rows(result)["load.p99_ms"]
    assert row["change_pct"] == 30 and row["verdict"] == "too few samples" and row["per_second"] is None


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
