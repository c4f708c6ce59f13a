"""kslab scenario list / validate / run: exit codes, one-line errors, skips, and Ctrl-C on a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kslab.exitcodes import ExitCode
from tests.deploy_support import Lab, kslab
from tests.leak_guard import leftover_pids, pid_gone
from tests.scenario_harness.fixture import (  # noqa: F401  (fixtures)
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

NAP = """\
name: nap
description: a user scenario that marks, sleeps and cleans up
steps:
  - name: hello
    mark: hello
  - name: nap
    sleep: 60s
    why: give the test time to press Ctrl-C
finally:
  - name: goodbye
    mark: goodbye
"""


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """kslab with provider local in an empty working directory (run records under it)."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_PROVIDER", "local")
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def records(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "reports").glob("*/run.json"))]


def test_list_shows_builtins_user_files_and_extra_files(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (local / "scenarios").mkdir()
    (local / "scenarios" / "nap.yaml").write_text(NAP)
    (local / "scenarios" / "broken.yaml").write_text("name: broken\nsteps: []\n")
    extra = local / "elsewhere.yaml"
    extra.write_text(NAP.replace("name: nap", "name: elsewhere"))
    code, out, _ = kslab(capsys, "scenario", "list", "--file", str(extra), "-o", "json")
    assert code == ExitCode.OK
    rows = {row["name"]: row for row in json.loads(out)}
    assert {"smoke", "canary", "canary-rollback", "raw-mode"} <= set(rows)
    assert rows["canary"]["source"] == "built-in" and rows["canary"]["file"] == "scenarios/canary.yaml"
    assert rows["canary"]["requires"] == {"cluster": True, "mode": "knative", "kserve": ">=0.13"}
    assert (rows["nap"]["source"], rows["nap"]["file"]) == ("user", "scenarios/nap.yaml")
    assert (rows["elsewhere"]["source"], rows["elsewhere"]["file"]) == ("file", "elsewhere.yaml")
    assert rows["broken"]["description"] == ('invalid: scenarios/broken.yaml: field "steps": a scenario needs at least '
                                             'one step')
    code, out, _ = kslab(capsys, "--no-color", "scenario", "list")  # the table: no file column, requires in one cell
    assert code == ExitCode.OK and "mode=knative" in out and "REQUIRES" in out and "FILE" not in out


def test_validate_reports_one_line_and_exit_2(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = local / "my.yaml"
    path.write_text(NAP.replace("sleep: 60s", "sleep: soon"))
    code, _, err = kslab(capsys, "scenario", "validate", str(path))
    assert code == ExitCode.USAGE
    assert err.splitlines()[0] == 'error: my.yaml: step 2 "nap": field "sleep": "soon" is not a duration (like 90s, ' \
                                  '2m, 500ms)'
    path.write_text(NAP)
    code, out, _ = kslab(capsys, "scenario", "validate", str(path), "-o", "json")
    assert code == ExitCode.OK and json.loads(out)["steps"] == 2


def test_run_rejects_unknown_names_and_params(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kslab(capsys, "scenario", "run", "canery")
    assert code == ExitCode.USAGE and err.startswith("error: no scenario named 'canery' (did you mean \"canary\"?)")
    code, _, err = kslab(capsys, "scenario", "run", "canary", "--set", "canary_pct=20")
    assert code == ExitCode.USAGE
    assert err.startswith('error: --set canary_pct: scenario "canary" has no parameter "canary_pct" (did you mean '
                          '"canary_percent"?)')
    assert records(local) == []  # nothing ran, so no run record


@pytest.mark.parametrize(("scenario", "item", "message"), [
    ("canary", "canary_percent=101", "--set canary_percent=101: 101 is above the maximum 100"),
    ("canary", "canary_percent=-5", "-5 is below the minimum 0"),
    ("canary", "requests=0", "0 is below the minimum 1"),
    ("canary", "model_source=s3", "'s3' is not one of catalog, pvc"),
    ("canary", "ready_timeout=soon", "expected a duration like 30s, 2m or 500ms, got 'soon'"),
    ("autoscale", "hpa_cpu_target=250", "250 is above the maximum 100"),
    ("smoke", "batch_size=ten", "expected a whole number, got 'ten'"),
])
def test_set_values_are_checked_against_declared_type_and_range_before_anything_runs(
        local: Path, capsys: pytest.CaptureFixture[str], scenario: str, item: str, message: str) -> None:
    code, _, err = kslab(capsys, "scenario", "run", scenario, "--set", item)
    assert code == ExitCode.USAGE, err
    assert err.startswith("error: ") and message in err.splitlines()[0], err
    assert records(local) == []  # refused before a session, a record or a cluster


def test_cluster_scenarios_are_skipped_on_provider_local(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kslab(capsys, "scenario", "run", "canary", "-o", "json")
    assert code == ExitCode.OK
    assert json.loads(out)["verdict"] == "skipped"
    assert "canary: skipped: needs a cluster provider" in err
    [record] = records(local)
    assert record["scenarios"][0]["verdict"] == "skipped" and record["steps"][0]["result"] == "skipped"


def test_scenario_name_alone_is_short_for_run(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kslab(capsys, "-o", "json", "scenario", "raw-mode")  # the lab's spelling: kslab scenario NAME
    assert code == ExitCode.OK, err
    assert json.loads(out)["verdict"] == "skipped" and "raw-mode: skipped: needs a cluster provider" in err
    assert kslab(capsys, "scenario", "nosuch")[0] == ExitCode.USAGE  # still a one-line error for a bad name


def test_ctrl_c_on_a_running_scenario_process_exits_130_after_cleanup(local: Path) -> None:
    scenario = local / "nap.yaml"
    scenario.write_text(NAP)
    proc = subprocess.Popen([sys.executable, "-c", "from kslab.cli.main import entry; entry()", "scenario", "run",
                             str(scenario)], cwd=local, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_step(local, "nap")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    [record] = records(local)
    entry = record["scenarios"][0]
    assert entry["verdict"] == "interrupted" and record["result"] == "interrupted"
    assert [(s["name"], s["phase"]) for s in entry["steps"]] == [("hello", "main"), ("nap", "main"),
                                                                ("goodbye", "finally")]
    assert [e["label"] for e in entry["events"]] == ["hello", "goodbye"]


def _wait_for_step(root: Path, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in records(root):
            steps = [s for e in record.get("scenarios", []) for s in e["steps"]]
            if any(s["name"] == name and s["result"] == "running" for s in steps):
                return
        time.sleep(0.1)
    raise AssertionError(f"step {name!r} never started within {timeout:g}s")


LOAD_THEN_NAP = """\
name: load-then-nap
steps:
  - name: load
    traffic: {duration: 60s, concurrency: 2, background: true}
  - name: nap
    sleep: 60s
    why: the test presses Ctrl-C while the background load and its port-forward run
"""


def test_ctrl_c_stops_background_load_and_its_port_forward(scenario_lab: ScenarioLab) -> None:
    scenario_lab.deploy()
    root = scenario_lab.lab.tmp_path
    scenario = root / "load-then-nap.yaml"
    scenario.write_text(LOAD_THEN_NAP)
    proc = subprocess.Popen([sys.executable, "-c", "from kslab.cli.main import entry; entry()", "scenario", "run",
                             str(scenario)], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_step(root, "nap")
        forwards = leftover_pids(str(root), children=False)
        assert forwards, "the background load holds a port-forward while it runs"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    deadline = time.monotonic() + 5
    while not all(pid_gone(pid) for pid in forwards) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(pid_gone(pid) for pid in forwards), "a port-forward outlived the interrupted scenario"
    entry = scenario_lab.lab.record()["scenarios"][0]
    assert entry["verdict"] == "interrupted"
    assert entry["cleanups"] == [{"what": "stop background traffic load", "ok": True}]
    [load] = entry["load"]
    assert load["interrupted"] is True and load["ok"] > 0


def test_smoke_scenario_deploys_and_smokes(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kslab(capsys, "scenario", "run", "smoke", "--set", "ready_timeout=30s", "-o", "json")
    assert code == ExitCode.OK, err
    summary = json.loads(out)
    assert summary["verdict"] == "passed" and summary["steps"] == "3 ok, 0 failed, 0 skipped"
    entry = scenario_lab.lab.record()["scenarios"][0]
    smoke = entry["steps"][2]["observations"]
    assert smoke["ok"] is True and smoke["failed"] == 0 and smoke["passed"] >= 10
    isvc = scenario_lab.lab.isvc()
    assert isvc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Knative"


DELETE_IT = """\
name: delete-it
steps:
  - name: remove
    delete: {resource: isvc, name: "{name}"}
"""


def test_delete_refuses_an_object_kslab_did_not_create(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fakecluster.controllers.lab import sklearn_iris
    from tests.fakecluster.resources import ISVCS

    lab.seed()
    lab.store.create(ISVCS, "kserve-test", sklearn_iris())  # made by someone else: no managed-by label
    (lab.tmp_path / "delete-it.yaml").write_text(DELETE_IT)
    code, _, err = kslab(capsys, "scenario", "run", "delete-it.yaml")
    assert code == ExitCode.CHECK_FAILED and "error: scenario delete-it failed" in err
    [entry] = lab.record()["scenarios"]
    assert entry["reason"] == ('step 1 "remove": inferenceservice.serving.kserve.io/sklearn-iris -n kserve-test was '
                               "not created by kslab (no label app.kubernetes.io/managed-by=kslab); the scenario does "
                               "not delete it")
    assert lab.isvc() is not None
