"""`kslab lab --ci` on the fake cluster: up → deploy → smoke → scenarios → load → report, end to end.

Nothing is seeded: the fake kind creates the cluster, kslab installs the stack through the fake helm, and
inference is answered by real KServe model servers behind the scenario harness's router
(tests/lab_ci_support.py). The outputs are checked against the run record they were rendered from.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

from kslab.exitcodes import ExitCode
from kslab.paths import manifests_dir
from tests.deploy_support import kslab
from tests.lab_ci_support import lab_run_fixture  # noqa: F401  (fixture registration)
from tests.leak_guard import leftover_pids
from tests.scenario_harness.fixture import lab_fixture, scenario_runtimes_fixture  # noqa: F401

PNG = "data:image/png;base64,"
KSLAB = str(Path(sys.executable).parent / "kslab")  # the console script of this venv


def _schema_errors(record: dict) -> list[str]:
    schema = json.loads((manifests_dir() / "schema" / "run-v1.schema.json").read_text())
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(record)]


def _lab_env(monkeypatch) -> None:
    monkeypatch.setenv("KSLAB_PROVIDER", "kind")  # the fake kind on PATH makes the cluster
    monkeypatch.setenv("KSLAB_LAB__LOAD_PROFILE", "2,4@1s")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def test_lab_ci_writes_a_record_and_every_report_from_real_measurements(lab_run, capsys, monkeypatch, tmp_path):
    _lab_env(monkeypatch)
    summary_file = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    code, out, err = kslab(capsys, "-o", "json", "lab", "--ci", "--scenarios", "smoke,canary")
    assert code == ExitCode.OK, err[-4000:]
    assert "\x1b[" not in err  # --ci: plain lines, no live view
    summary = json.loads(out)
    run_dir = Path(summary["run_record"]).parent
    record = json.loads((run_dir / "run.json").read_text())
    assert record["result"] == "ok" and _schema_errors(record) == []
    assert summary["scenarios"] == {"smoke": "passed", "canary": "passed"}
    assert [s["name"] for s in record["steps"][:5]] == ["preflight", "cluster", "kubernetes-version", "stack",
                                                        "lab-namespace"]
    canary = next(s for s in record["scenarios"] if s["name"] == "canary")
    split = next(s for s in canary["steps"] if s["action"] == "observe" and "revisions" in s["observations"])
    assert split["observations"]["total"] > 0 and split["observations"]["within_tolerance"] is True

    load = next(s for s in record["steps"] if s["name"] == "load")["observations"]
    assert load["error_total"] == 0 and load["requests"] > 0 and [s["level"] for s in load["steps"]] == [2.0, 4.0]

    # JUnit: parses, and its counts are the record's: a suite per scenario with a case per assertion, the smoke
    # checks, and the lab's own steps
    root = ET.parse(run_dir / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert int(suites["scenario canary"].get("tests")) == len(canary["assertions"]) > 0
    assert [c.get("name") for c in suites["scenario smoke"].iter("testcase")] == ["smoke verdict"]  # no assertions
    smoke_checks = [s for s in record["steps"] if s["name"].startswith("smoke: ")]
    assert int(suites["smoke"].get("tests")) == len(smoke_checks) == 14
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites.values())
    assert root.get("failures") == root.get("errors") == "0"

    # Markdown: the Table-1 summary from this run's load; the same text went to the step summary
    markdown = (run_dir / "report.md").read_text()
    assert f"| Throughput | {load['throughput_rps']:g} requests/second |" in markdown  # as the report formats it
    assert "| Scenarios | 2 passed |" in markdown
    assert summary_file.read_text().strip() == markdown.strip()

    # HTML: self-contained, with the plots (latency per level, canary split, step durations among them)
    html = (run_dir / "report.html").read_text()
    assert html.count(PNG) >= 4 and "http://" not in html.replace("http://sklearn-iris", "")
    assert "Canary split" in html and "Latency distribution per level" in html


def test_a_failed_scenario_fails_the_lab_but_the_load_and_report_still_happen(lab_run, capsys, monkeypatch):
    _lab_env(monkeypatch)
    lab_run.router.split_skew_points = 30.0  # the gateway sends 30 points more to the canary than configured
    code, _, err = kslab(capsys, "-o", "json", "lab", "--ci", "--scenarios", "canary")
    assert code == ExitCode.CHECK_FAILED, err[-3000:]
    assert "error: scenarios failed: canary" in err
    run_dir = Path(next(line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("run record: "))).parent
    record = json.loads((run_dir / "run.json").read_text())
    assert record["result"] == "failed" and _schema_errors(record) == []
    assert next(s for s in record["steps"] if s["name"] == "load")["result"] == "ok"
    root = ET.parse(run_dir / "junit.xml").getroot()
    assert int(root.get("failures")) >= 1
    failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert any("measured canary percent" in (c.get("name") or "") for c in failed)


def test_a_lab_killed_mid_scenario_leaves_a_valid_record_and_an_incomplete_report(lab_run, monkeypatch, tmp_path):
    _lab_env(monkeypatch)
    proc = subprocess.Popen([KSLAB, "lab", "--ci", "--scenarios", "canary"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        record_path = _wait_for_canary_step(tmp_path, proc)
        os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up or render anything
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        _stop_port_forwards(tmp_path)
    record = json.loads(record_path.read_text())
    assert record["result"] == "running" and _schema_errors(record) == []
    rendered = subprocess.run([KSLAB, "report", str(record_path.parent)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    assert "INCOMPLETE RUN" in (record_path.parent / "report.md").read_text()
    root = ET.parse(record_path.parent / "junit.xml").getroot()
    assert int(root.get("errors")) >= 1  # the unfinished scenario and run are errors, not passes


def _wait_for_canary_step(cwd: Path, proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:] if proc.stdout else ""
        for path in cwd.glob("reports/*/run.json"):
            try:
                record = json.loads(path.read_text())
            except ValueError:
                continue  # never happens with atomic writes; tolerated so the test names the real problem
            scenarios = record.get("scenarios") or []
            if scenarios and len(scenarios[0].get("steps") or []) >= 3:
                return path
        time.sleep(0.1)
    raise AssertionError("the lab never reached the canary scenario's third step within 120 s")


def _stop_port_forwards(cwd: Path) -> None:
    """A SIGKILLed kslab cannot stop its kubectl port-forward; do what a user's shell would (kill the group)."""
    for pid in leftover_pids(str(cwd), children=False):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
