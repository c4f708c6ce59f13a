"""Local runtime lifecycle: start, replace, stop, stale state, failures — and never a process left behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_iris
from sklearn.dummy import DummyClassifier

from kslab.cli.main import run
from kslab.config.model import Settings, Timeouts
from kslab.errors import CheckFailed, UsageError, WaitTimeout
from kslab.exitcodes import ExitCode
from kslab.inference.client import InferenceClient
from kslab.local import runtime
from kslab.local.deploy import deploy_local, local_endpoint, local_status, undeploy_local
from kslab.modelbuild.builder import build_model, models_dir
from kslab.models.run_record import RunRecord
from tests.dataplane.conftest import MODEL
from tests.leak_guard import pid_gone
from tests.state_support import cli_state_dir as _state

pytestmark = pytest.mark.usefixtures("isolated_state")
SETTINGS = Settings(provider="local")


def _state_file() -> Path:
    return runtime.local_dir(_state()) / f"{MODEL}.json"


def test_deploy_replace_undeploy_records_steps_and_leaves_no_process(tmp_path):
    record = RunRecord(tmp_path / "reports", "deploy")
    first = deploy_local(SETTINGS, MODEL, "v1", record=record, state=_state())
    assert (first.action, first.ready, first.estimator, first.kind) == ("started", True, "svm.SVC", "local runtime")
    steps = [(s["name"], s["result"]) for s in json.loads(record.path.read_text())["steps"]]
    assert steps == [("model-build", "ok"), ("local-runtime", "ok"), ("ready", "ok")]
    second = deploy_local(SETTINGS, MODEL, "v2", state=_state())
    assert (second.action, second.version, second.estimator) == ("replaced", "v2", "linear_model.LogisticRegression")
    assert second.pid != first.pid and pid_gone(first.pid)
    with InferenceClient(local_endpoint(SETTINGS, MODEL, state=_state())) as client:
        assert client.predict([[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]]).predictions == [0, 2]
    assert undeploy_local(SETTINGS, MODEL, state=_state()) is True
    assert pid_gone(second.pid) and not _state_file().exists()
    with pytest.raises(ProcessLookupError):
        os.kill(second.pid, 0)
    assert undeploy_local(SETTINGS, MODEL, state=_state()) is False
    assert local_status(SETTINGS, MODEL, state=_state()) is None


def test_ready_timeout_names_the_health_endpoint_and_cleans_up():
    with pytest.raises(WaitTimeout) as caught:
        deploy_local(Settings(provider="local", timeouts=Timeouts(deploy=1)), MODEL, state=_state())
    assert "waited 1s for GET http://127.0.0.1:" in caught.value.message
    assert '/v2/health/ready to answer {"ready": true}' in caught.value.message
    assert "sklearn-iris.log" in caught.value.hint
    assert runtime.status(_state(), MODEL) is None and not _state_file().exists()
    assert runtime._read_state(_state(), MODEL) is None


def test_second_start_is_refused_then_stop_ends_the_process_group(tmp_path):
    build = build_model(MODEL, "v1", models_dir(_state()))
    deployment = runtime.start(_state(), MODEL, build.model_dir)
    try:
        with pytest.raises(UsageError, match="already running"):
            runtime.start(_state(), MODEL, build.model_dir)
    finally:
        assert runtime.stop(_state(), MODEL) is True
    assert pid_gone(deployment.pid)


def test_a_model_dir_with_two_model_files_fails_with_the_server_log(tmp_path):
    build = build_model(MODEL, "v1", tmp_path / "models")
    (build.model_dir / "extra.pkl").write_bytes(build.model_file.read_bytes())
    deployment = runtime.start(_state(), MODEL, build.model_dir)
    with pytest.raises(CheckFailed) as caught:
        runtime.wait_ready(deployment, timeout_s=60)
    assert "exited with code 1 before it was ready" in caught.value.message
    assert "expected exactly one model file" in caught.value.hint
    assert pid_gone(deployment.pid) and runtime.status(_state(), MODEL) is None


def test_a_busy_port_is_reported_and_nothing_keeps_running(tmp_path):
    build = build_model(MODEL, "v1", tmp_path / "models")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CheckFailed) as caught:
            runtime.start(_state(), MODEL, build.model_dir, port=port)
    assert "exited with code 3" in caught.value.message
    assert f"cannot listen on 127.0.0.1:{port}" in caught.value.hint
    assert runtime.status(_state(), MODEL) is None


def test_stale_state_of_a_dead_process_is_detected_and_removed():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _write_state(dead.pid)
    assert runtime.status(_state(), MODEL) is None and not _state_file().exists()
    with pytest.raises(UsageError, match="not deployed locally"):
        local_endpoint(SETTINGS, MODEL, state=_state())


def test_state_naming_another_program_is_never_signalled():
    _write_state(os.getpid())  # this pytest process: alive, but not a model server
    assert runtime.stop(_state(), MODEL) is False
    assert not _state_file().exists()
    os.kill(os.getpid(), 0)


def test_smoke_against_a_wrong_model_exits_1_and_records_the_failures(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    iris = load_iris()
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    joblib.dump(DummyClassifier(strategy="constant", constant=2).fit(iris.data, iris.target), wrong / "model.joblib")
    runtime.wait_ready(runtime.start(_state(), MODEL, wrong), timeout_s=60)
    try:
        assert run(["smoke", MODEL, "--provider", "local", "-o", "json"]) == ExitCode.CHECK_FAILED
    finally:
        runtime.stop(_state(), MODEL)
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    failed = {c["name"]: c for c in data["checks"] if not c["ok"]}
    # a DummyClassifier ignores the feature count too, so the wrong-feature-count request is answered 200
    assert set(failed) == {"v1 predict sample 1", "v1 predict sample 2", "v1 predict batch of 30",
                           "v2 infer sample 1", "v2 infer sample 2", "v2 infer batch of 30",
                           "v1 rejects 3 features instead of 4"}
    assert (failed["v1 predict sample 1"]["expected"], failed["v1 predict sample 1"]["actual"]) == ([1, 1], [2, 2])
    assert failed["v1 rejects 3 features instead of 4"]["status_code"] == 200
    assert "error: 7 of 14 smoke checks failed: v1 predict sample 1" in captured.err
    record = json.loads(Path(data["run_record"]).read_text())
    assert record["result"] == "failed"
    assert {s["name"][len("smoke: "):] for s in record["steps"] if s["result"] == "failed"} == set(failed)


def _write_state(pid: int) -> None:
    runtime.local_dir(_state()).mkdir(parents=True, exist_ok=True)
    _state_file().write_text(json.dumps({"name": MODEL, "pid": pid, "port": 1, "model_dir": "/nowhere",
                                         "started_at": "2026-01-01T00:00:00Z", "log_file": "/nowhere.log"}))


def test_cli_deploy_smoke_undeploy_with_the_local_provider(tmp_path, monkeypatch, capsys):
    """The whole local data plane through the CLI (kslab deploy dispatches to the local provider)."""
    monkeypatch.chdir(tmp_path)
    assert run(["deploy", MODEL, "--provider", "local", "-o", "json"]) == ExitCode.OK
    deployed = json.loads(capsys.readouterr().out)
    assert (deployed["kind"], deployed["ready"], deployed["action"]) == ("local runtime", True, "started")
    deploy_steps = [s["name"] for s in json.loads(Path(deployed["run_record"]).read_text())["steps"]]
    assert {"model-build", "local-runtime", "ready"} <= set(deploy_steps)
    try:
        assert run(["smoke", MODEL, "--provider", "local", "-o", "json"]) == ExitCode.OK
        smoked = json.loads(capsys.readouterr().out)
        assert smoked["ok"] and (smoked["url"], smoked["route"]) == (deployed["url"], "local")
    finally:
        assert run(["undeploy", MODEL, "--provider", "local", "-o", "json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["action"] == "stopped"
    assert pid_gone(deployed["pid"])
