"""kslab report on the command line: --list, RUN resolution and bad ids, -o json, --out, $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from kslab.report.markdown import STEP_SUMMARY_LIMIT, append_step_summary
from tests.report_support import load_of, read, real_load_run, run_id, write_run


@pytest.fixture
def reports(tmp_path_factory, tmp_path, monkeypatch) -> Path:
    """Three copies of a real `kslab load` record, stored out of order, in an empty working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    record = read(real_load_run(tmp_path_factory))
    for offset, suffix in ((60, "bbbb"), (0, "aaaa"), (120, "cccc")):
        copied = copy.deepcopy(record)
        copied["started_at"] = f"2026-11-24T01:0{offset // 60}:00.000000Z"
        write_run(tmp_path / "reports", copied, run_id(offset, "load", suffix))
    return tmp_path / "reports"


def test_list_shows_runs_newest_first(reports, capsys):
    assert run(["report", "--list", "-o", "json"]) == ExitCode.OK
    listed = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in listed] == [run_id(120, "load", "cccc"), run_id(60, "load", "bbbb"),
                                             run_id(0, "load", "aaaa")]
    assert {r["command"] for r in listed} == {"load"} and all(r["steps"] == 1 for r in listed)
    assert run(["report", "--list"]) == ExitCode.OK
    table = capsys.readouterr().out
    assert table.index("cccc") < table.index("bbbb") < table.index("aaaa")


def test_the_default_run_is_the_latest_and_paths_are_printed(reports, capsys):
    assert run(["report"]) == ExitCode.OK
    out = capsys.readouterr().out.splitlines()
    latest = reports / run_id(120, "load", "cccc")
    assert out == [f"md: {latest.relative_to(reports.parent) / 'report.md'}",
                   f"junit: {latest.relative_to(reports.parent) / 'junit.xml'}",
                   f"html: {latest.relative_to(reports.parent) / 'report.html'}"]
    assert sorted(p.name for p in latest.iterdir()) == ["junit.xml", "report.html", "report.md", "run.json"]
    assert not (reports / run_id(0, "load", "aaaa") / "report.md").exists()


def test_json_output_is_the_summary(reports, capsys):
    before = (reports / run_id(0, "load", "aaaa") / "run.json").read_bytes()
    assert run(["report", "20261124T010000Z", "--format", "md", "-o", "json"]) == ExitCode.OK  # a unique prefix
    summary = json.loads(capsys.readouterr().out)
    load = load_of(read(reports / run_id(0, "load", "aaaa")))
    assert summary["run_id"] == run_id(0, "load", "aaaa") and summary["complete"] is True
    assert summary["metrics"]["load.p99_ms"] == load["latency"]["p99_ms"]
    assert [lv["level"] for lv in summary["loads"][0]["profile"]] == [1, 3]
    assert {r["metric"] for r in summary["headline"]} >= {"Average latency", "Maximum latency", "Throughput",
                                                          "Scalability"}
    assert list(summary["reports"]) == ["md"]
    assert (reports / run_id(0, "load", "aaaa") / "run.json").read_bytes() == before  # the record is only read


def test_out_writes_elsewhere(reports, tmp_path, capsys):
    out = tmp_path / "site"
    assert run(["report", "latest", "--out", str(out), "--format", "html"]) == ExitCode.OK
    assert [p.name for p in out.iterdir()] == ["report.html"]
    assert not (reports / run_id(120, "load", "cccc") / "report.html").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["report", "nope"], "no run 'nope'"),
    (["report", "./reports"], "holds no run.json"),
    (["report", "../etc"], "is not a run id"),
    (["report", "a b"], "is not a run id"),
    (["report", "20261124T01"], "is ambiguous"),
    (["report", "--format", "pdf"], "--format 'pdf'"),
    (["report", "--compare", "missing"], "no run 'missing'"),
])
def test_bad_input_is_one_line_and_exit_2(reports, capsys, argv, expected):
    assert run(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err.splitlines()[0] and "Traceback" not in err


def test_no_runs_at_all(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(["report"]) == ExitCode.USAGE
    assert "no runs in reports" in capsys.readouterr().err
    assert run(["report", "--list"]) == ExitCode.OK
    assert "no runs in reports" in capsys.readouterr().err


def test_the_step_summary_is_appended(reports, tmp_path, monkeypatch, capsys):
    summary = tmp_path / "step-summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run(["report", "--format", "junit"]) == ExitCode.OK
    assert f"step-summary: {summary}" in capsys.readouterr().out
    text = summary.read_text()
    assert text.startswith("# earlier step\n\n\n# kslab load — ") and "| Average latency |" in text


def test_a_huge_record_is_cut_to_stay_under_the_step_summary_limit(reports, tmp_path, monkeypatch, capsys):
    record = read(reports / run_id(0, "load", "aaaa"))
    template = {"name": "smoke: check", "inputs": {}, "started_at": record["started_at"],
                "finished_at": record["started_at"], "duration_s": 0.001, "result": "ok",
                "observations": {"name": "check", "ok": True, "expected": "x" * 150, "actual": "y" * 150,
                                 "latency_ms": 1.0}}
    record["steps"] = [dict(template, name=f"smoke: check {i}") for i in range(6000)] + record["steps"]
    run_dir = write_run(reports, record, run_id(300, "load", "dddd"))
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run(["report", run_dir.name, "--format", "md"]) == ExitCode.OK
    assert (run_dir / "report.md").stat().st_size > STEP_SUMMARY_LIMIT  # the file keeps everything
    assert 0.9 * STEP_SUMMARY_LIMIT < summary.stat().st_size < STEP_SUMMARY_LIMIT
    assert summary.read_text().endswith("the full report is report.md in the run's directory._\n")
    capsys.readouterr()


def test_a_full_step_summary_gets_nothing_more(tmp_path):
    path = tmp_path / "summary.md"
    path.write_bytes(b"x" * (STEP_SUMMARY_LIMIT - 10))
    assert append_step_summary(path, "# report\n" * 10) == 0
    assert path.stat().st_size == STEP_SUMMARY_LIMIT - 10
    small = tmp_path / "small.md"
    assert append_step_summary(small, "# report\n") == len("# report\n")
    assert small.read_text() == "# report\n"
