"""kslab predict / smoke on the command line, against the real local runtime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.dataplane.conftest import MODEL

pytestmark = pytest.mark.usefixtures("iris_runtime", "in_tmp_cwd")


def test_predict_v1_default_sample_json(capsys, iris_runtime):
    assert run(["predict", MODEL, "--provider", "local", "-o", "json"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["protocol"], data["predictions"]) == (200, "v1", [1, 1])
    assert data["classes"] == ["versicolor", "versicolor"] and data["ok"] is True
    assert (data["url"], data["route"]) == (iris_runtime.url, "local") and data["latency_ms"] > 0


def test_bare_predict_and_load_mean_the_lab_model(capsys, iris_runtime):
    assert run(["predict", "--provider", "local", "-o", "json"]) == ExitCode.OK  # as the lab types it
    assert json.loads(capsys.readouterr().out)["predictions"] == [1, 1]
    assert run(["load", "--provider", "local", "-n", "20", "-c", "2", "-o", "json"]) == ExitCode.OK
    result = json.loads(capsys.readouterr().out)
    assert result["target"].startswith(iris_runtime.url) and result["ok"] == 20


def test_predict_v2_with_instances(capsys):
    argv = ["predict", MODEL, "--provider", "local", "--protocol", "v2", "-o", "json",
            "--instances", "[[5.1,3.5,1.4,0.2],[6.3,3.3,6.0,2.5]]"]
    assert run(argv) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert data["predictions"] == [0, 2] and data["response"]["outputs"][0]["datatype"] == "INT64"


def test_predict_flat_row_and_table(capsys):
    assert run(["--no-color", "predict", MODEL, "--provider", "local", "--instances", "[5.1,3.5,1.4,0.2]"]) == 0
    out = capsys.readouterr().out
    assert "PREDICTIONS" in out and "setosa" in out


def test_predict_body_file_server_error_exits_1_with_its_message(tmp_path, capsys):
    body = tmp_path / "bad.json"
    body.write_text('{"instances": [[1, 2, 3]]}')
    assert run(["predict", MODEL, "--provider", "local", "--body", str(body), "-o", "json"]) == ExitCode.CHECK_FAILED
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == 500
    assert captured.err.splitlines()[0] == (
        "error: sklearn-iris answered 500: X has 3 features, but SVC is expecting 4 features as input.")


@pytest.mark.parametrize(("argv", "message"), [
    (["--instances", "[[6.8, 2.8"], "--instances is not JSON"),
    (["--instances", "[[6.8, 2.8, 4.8]]"], "--instances row 0 has 3 values, the model takes 4"),
    (["--instances", '[["a", 1, 2, 3]]'], "must be a list of numbers"),
    (["--protocol", "v3"], "--protocol 'v3' is not one of v1, v2"),
    (["--body", "missing.json"], "--body missing.json"),
])
def test_predict_bad_input_is_one_line_exit_2(argv, message, capsys):
    assert run(["predict", MODEL, "--provider", "local", *argv]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_predict_unknown_model_exits_2(capsys):
    assert run(["predict", "nope", "--provider", "local"]) == ExitCode.USAGE
    assert "error: unknown model 'nope'" in capsys.readouterr().err


def test_smoke_passes_end_to_end_and_is_recorded(capsys, in_tmp_cwd):
    assert run(["smoke", MODEL, "--provider", "local", "-o", "json"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["failed"] == 0 and data["passed"] == len(data["checks"]) == 14
    names = [c["name"] for c in data["checks"]]
    assert names[:3] == ["v2 server ready", "v1 model ready", "v2 metadata"]
    assert {"v1 predict batch of 30", "v2 infer batch of 30", "v1 rejects a body that is not JSON",
            "v2 rejects a body without inputs", "v1 rejects 3 features instead of 4"} <= set(names)
    assert all(c["latency_ms"] > 0 for c in data["checks"])
    record = json.loads(Path(data["run_record"]).read_text())
    assert record["command"] == "smoke" and record["result"] == "ok"
    steps = {s["name"]: s for s in record["steps"]}
    assert steps["smoke: v1 predict sample 1"]["observations"]["actual"] == [1, 1]
    assert all(s["result"] == "ok" and s["observations"]["latency_ms"] > 0 for s in record["steps"])
    assert Path(data["run_record"]).resolve().parent.parent == in_tmp_cwd.resolve() / "reports"


def test_smoke_table_for_people(capsys):
    assert run(["--no-color", "smoke", MODEL, "--provider", "local", "--batch", "5"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "v1 predict batch" in out and "FAIL" not in out and out.count(" ok ") == 14


def test_cli_start_up_imports_no_model_server_or_sklearn():
    code = ("import sys, kslab.cli.main; print(','.join(m for m in ('kserve', 'sklearn', 'joblib', 'numpy', "
            "'fastapi', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
