"""Issue 14, what a newcomer trips on: help that shows allowed values and examples, one error style, --provider
on status and port-forward, durations for --timeout, one spelling for a model version, the state and reports
directories named with the fix, tables at 80 columns that never cut ids or URLs, -o json fields scripts parse,
and `kslab deploy` then `kslab lab --provider local` leaving the user's server running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.leak_guard import leftover_pids

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["version", "up", "down", "status", "doctor", "lab", "deploy", "undeploy", "predict", "smoke",
            "model build", "port-forward", "load", "scenario list", "scenario run", "scenario validate", "report"]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def _kslab(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """kslab in a child process, stdout piped, COLUMNS=80 (a CI log)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("KSLAB_")}
    environ = base | {"PYTHONPATH": str(ROOT), "COLUMNS": "80"} | (env or {})
    return subprocess.run([sys.executable, "-c", "from kslab.cli.main import entry; entry()", *args], cwd=cwd,
                          env=environ, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_shows_values_not_type_placeholders_and_ends_with_examples(command, here, capsys):
    assert run([*command.split(), "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "<str>" not in out and "<list[" not in out and "<float>" not in out and "<int" not in out, out
    examples = out.rstrip().split("Examples:\n")[-1].splitlines()
    assert "Examples:" in out and 1 <= len(examples) <= 3 and all(e.strip().startswith("kslab ") for e in examples)


def test_allowed_values_are_in_the_help(here, capsys):
    assert run(["load", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "--provider kind|minikube|existing|local" in out and "--protocol v1|v2" in out
    assert "--timeout DURATION" in out and "-o, --output table|json|yaml" in out


@pytest.mark.parametrize("argv", [["load", "--bogus"], ["deploy", "--timeout"], ["report", "--nope"],
                                  ["status", "--provider"], ["model", "build", "--model-version"]])
def test_flag_errors_use_the_one_error_style(argv, here, capsys):
    assert run(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "\nhint: 'kslab " in err and "--help' lists the options" in err, err
    assert "Usage:" not in err and "Error:" not in err


@pytest.mark.parametrize("argv, message", [
    (["deploy", "--provider", "local", "--timeout", "soon"], "error: --timeout 'soon' is not a positive duration"),
    (["undeploy", "sklearn-iris", "--timeout", "-3"], "error: --timeout '-3' is not a positive duration"),
])
def test_timeout_is_a_duration_everywhere(argv, message, here, capsys):
    assert run(argv) == ExitCode.USAGE
    assert capsys.readouterr().err.startswith(message)


def test_a_state_dir_that_is_a_file_names_the_cause_and_the_fix(here, capsys, monkeypatch):
    (here / "afile").write_text("")
    monkeypatch.setenv("KSLAB_STATE_DIR", str(here / "afile"))
    assert run(["deploy", "--provider", "local"]) == ExitCode.ENVIRONMENT
    err = capsys.readouterr().err
    assert f"error: kslab's state directory {here / 'afile'} ($KSLAB_STATE_DIR) cannot be used" in err
    assert "a file is in the way" in err and "hint: point KSLAB_STATE_DIR at a writable directory" in err
    assert "unexpected" not in err and "please report" not in err


def test_a_reports_dir_in_the_way_names_the_cause_and_kslab_reports_dir(here, capsys):
    (here / "reports").write_text("")
    assert run(["load", "sklearn-iris", "--url", "http://127.0.0.1:9/", "-n", "1"]) == ExitCode.ENVIRONMENT
    err = capsys.readouterr().err
    assert f"error: the reports directory {here / 'reports'} cannot be used" in err
    assert "hint: run kslab from a writable directory, or set KSLAB_REPORTS_DIR to one" in err
    assert "unexpected" not in err


def test_a_read_only_reports_dir_is_named_with_the_fix(tmp_path):
    from kslab.cli.failures import describe

    error = PermissionError(13, "Permission denied", "reports/20261203T000000Z-lab-0000")
    message, hint = describe(error, {"KSLAB_STATE_DIR": str(tmp_path / "state")}, tmp_path)
    assert message == (f"the reports directory {tmp_path / 'reports'} cannot be used: "
                       f"{tmp_path / 'reports/20261203T000000Z-lab-0000'}: not writable")
    assert "KSLAB_REPORTS_DIR" in hint


def test_a_full_disk_anywhere_names_the_file_and_says_to_free_space(tmp_path):
    """A write outside the state and reports directories that hits ENOSPC (a model build, say) names the file and
    the disk to free, not 'check that the path exists and is writable'."""
    from kslab.cli.failures import describe

    error = OSError(28, "No space left on device", str(tmp_path / "models" / "model.joblib"))
    message, hint = describe(error, {"KSLAB_STATE_DIR": str(tmp_path / "state")}, tmp_path)
    assert message == f"{tmp_path / 'models' / 'model.joblib'}: No space left on device"
    assert hint.startswith(f"free space on the disk holding {tmp_path / 'models'} (df -h {tmp_path / 'models'})")


def test_status_and_port_forward_take_provider_local(here, capsys):
    assert run(["-o", "json", "status", "--provider", "local"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert data == {"provider": "local", "state_dir": str(here / "state"), "servers": []}
    assert run(["port-forward", "--provider", "local"]) == ExitCode.USAGE  # nothing deployed: says so, no cluster
    assert "sklearn-iris is not deployed locally" in capsys.readouterr().err


def test_report_list_keeps_run_ids_whole_at_80_columns(here):
    for index in range(3):  # records with long command names and timestamps
        run_dir = here / "reports" / f"20261203T15{index:02d}00Z-scenario-{index:04x}"
        run_dir.mkdir(parents=True)
    assert _kslab("load", "sklearn-iris", "--url", "http://127.0.0.1:9/", "-n", "1", cwd=here).returncode == 1
    shown = _kslab("report", "--list", cwd=here)
    [record] = [p.parent.name for p in (here / "reports").glob("*/run.json")]
    assert record in shown.stdout, shown.stdout
    assert "…" not in shown.stdout


def test_doctor_fix_urls_are_whole_at_80_columns(here):
    shown = _kslab("doctor", "--preflight", cwd=here, env={"PATH": "/nonexistent"})
    assert "https://helm.sh/docs/intro/install/" in shown.stdout, shown.stdout
    assert "https://kind.sigs.k8s.io/docs/user/quick-start/#installation" in shown.stdout
    assert "…" not in shown.stdout


def _table_and_below(out: str) -> tuple[list[str], list[str]]:
    """A check table's lines (title to the blank line) and the lines under it."""
    table, _, below = out.partition("\n\n")
    return table.splitlines(), below.splitlines()


def test_doctor_preflight_fits_80_columns_with_the_fixes_as_lines_under_it(here):
    """Issue 14: the FIX column pushed the preflight table to ~126 characters, so every row wrapped at 80.
    The table (CHECK / RESULT / DETAIL) fits; each fix is one whole line under it."""
    shown = _kslab("doctor", "--preflight", "--provider", "kind", cwd=here, env={"PATH": "/nonexistent"})
    table, below = _table_and_below(shown.stdout)
    assert table[1].split() == ["CHECK", "RESULT", "DETAIL"], shown.stdout
    assert max(len(line.rstrip()) for line in table) <= 80, shown.stdout
    assert any(line.startswith("helm installed ") and " FAIL " in line for line in table)
    assert "fix (helm installed): install Helm 3: https://helm.sh/docs/intro/install/" in below
    assert any(line.startswith("fix (kind installed): install kind ") and
               "https://kind.sigs.k8s.io/docs/user/quick-start/#installation" in line for line in below), below


def test_report_list_fits_80_columns_with_the_longest_command_and_result(here):
    """Issue 14: STARTED AT wrapped its final 'Z' at 80 columns; a scenario run that was interrupted is the
    widest row: it fits, with the whole run id and the start to the minute (UTC)."""
    from kslab.models.run_record import RunRecord

    record = RunRecord(here / "reports", "scenario")
    record.finish("interrupted")
    shown = _kslab("report", "--list", cwd=here)
    lines = shown.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80, shown.stdout
    started = record.data["started_at"]
    row = next(line for line in lines if line.startswith(record.run_id))
    assert row.split()[1:5] == ["scenario", "interrupted", started[:10], started[11:16]], shown.stdout
    assert "STARTED UTC" in lines[1]
    listed = json.loads(_kslab("-o", "json", "report", "--list", cwd=here).stdout)
    assert listed[0]["started_at"] == started  # scripts keep the full timestamp


def test_model_build_takes_model_version_and_the_old_spelling(here, capsys):
    assert run(["-o", "json", "model", "build", "--model-version", "v2", "--out", str(here / "m")]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["version"] == "v2"
    assert run(["-o", "json", "model", "build", "--version", "v1", "--out", str(here / "m")]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["version"] == "v1"
    assert run(["model", "build", "--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "--model-version" in out and "--version" not in out.replace("--model-version", "")


def test_deploy_then_lab_keeps_the_users_server_and_json_fields_parse(here, capsys, monkeypatch):
    """`kslab deploy` then `kslab lab --provider local`: the lab reuses the server and leaves it running; -o json
    gives smoke counts as numbers and the endpoint as url and route."""
    monkeypatch.setenv("KSLAB_LAB__LOAD_PROFILE", "1,2@1s")
    monkeypatch.setenv("KSLAB_LAB__LOAD_WARMUP", "0s")
    assert run(["-o", "json", "deploy", "--provider", "local"]) == ExitCode.OK
    pid = json.loads(capsys.readouterr().out)["pid"]
    try:
        code = run(["-o", "json", "lab", "--provider", "local"])
        captured = capsys.readouterr()
        assert code == ExitCode.OK, captured.err
        lab = json.loads(captured.out)
        assert lab["smoke"] == {"passed": 14, "failed": 0}
        os.kill(pid, 0)  # still running: the lab did not stop what it did not start
        assert run(["-o", "json", "status", "--provider", "local"]) == ExitCode.OK
        [server] = json.loads(capsys.readouterr().out)["servers"]
        assert server["pid"] == pid
        assert run(["-o", "json", "predict", "--provider", "local"]) == ExitCode.OK
        answer = json.loads(capsys.readouterr().out)
        assert answer["url"] == server["url"] and answer["route"] == "local" and "endpoint" not in answer
    finally:
        run(["undeploy", "sklearn-iris", "--provider", "local"])


@pytest.mark.parametrize(("argv", "env", "named", "fix"), [
    (["--scenarios", "smoke,canry"], {}, "--scenarios 'smoke,canry': no scenario named 'canry' (did you mean "
     '"canary"?)', "hint: give names from 'kslab scenario list'"),
    ([], {"KSLAB_LAB__SCENARIOS": "nope,canary"}, "lab.scenarios 'nope,canary': no scenario named 'nope'",
     "hint: fix lab.scenarios in kslab.yaml"),
    (["--scenarios", "./scenarios/mine.yaml"], {}, "--scenarios './scenarios/mine.yaml': no scenario named "
     "'./scenarios/mine.yaml'", "hint: "),
])
def test_unknown_lab_scenarios_are_refused_before_any_work(argv, env, named, fix, here, capsys, monkeypatch):
    """Issue 14: a typo in --scenarios or lab.scenarios is refused (exit 2) naming it and the known ones, before
    a record, a deploy or a model server, instead of an error entry after the deploy."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run(["lab", "--provider", "local", *argv]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: {named}") and fix in err, err
    assert "known: autoscale, canary, " in err and "Traceback" not in err
    assert not (here / "reports").exists() and not (here / "state").exists()  # nothing ran


def test_a_lab_profile_past_the_open_file_limit_is_refused_with_the_fix(here, capsys, monkeypatch):
    """Issue 14: the lab's load step gets `kslab load -c`'s open-file check, before the lab starts any work."""
    import resource

    monkeypatch.setenv("KSLAB_LAB__LOAD_PROFILE", "1,1000@1s")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        code = run(["lab", "--provider", "local"])
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    assert "error: lab.load_profile '1,1000@1s': the profile's top level 1000 needs 1064 open files" in err
    assert "hint: raise the limit first (ulimit -n 1064) or lower the profile's top level" in err
    assert "--workers" not in err  # the lab has no --workers to offer
    assert not (here / "reports").exists() and not (here / "state").exists()


def test_a_lab_whose_load_gets_no_answer_fails_with_the_reason(here, capsys, monkeypatch):
    """Issue 14: the lab's own load step is judged like `kslab load`: when the real model server rejects every
    load request (a body it cannot read; the smoke checks before it pass), the lab exits 1, its record and load
    step are failed with the reason, throughput counts no answer, and the report says why."""
    monkeypatch.setenv("KSLAB_LAB__LOAD_PROFILE", "1,2@1s")
    monkeypatch.setenv("KSLAB_LAB__LOAD_WARMUP", "0s")
    monkeypatch.setattr("kslab.load.recipe.request_body", lambda model, protocol, instances=None: b"{not json")
    code = run(["lab", "--provider", "local", "--ci"])
    err = capsys.readouterr().err
    assert code == ExitCode.CHECK_FAILED, err
    assert "error: load failed: every one of the " in err and " requests failed (HTTP " in err
    [record_path] = (here / "reports").glob("*-lab-*/run.json")
    record = json.loads(record_path.read_text())
    load = next(s for s in record["steps"] if s["name"] == "load")
    assert (record["result"], load["result"]) == ("failed", "failed")
    assert load["error"].startswith("every one of the ") and load["observations"]["ok"] == 0
    assert load["observations"]["requests"] > 0 and load["observations"]["throughput_rps"] == 0.0
    assert load["error"] in (record_path.parent / "report.md").read_text()
    assert not list((here / "state" / "local").glob("*.json"))  # the server the lab started is stopped
    assert leftover_pids(str(here), children=False) == []
