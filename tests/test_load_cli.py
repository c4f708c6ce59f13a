"""kslab load on the command line: JSON result and run record, bad input, Ctrl-C with a partial result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.load_support import TestServer


@pytest.fixture(scope="module")
def server():
    with TestServer() as running:
        yield running


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_json_result_and_run_record(server, in_tmp, capsys):
    code = run(["load", "sklearn-iris", "--url", server.url("/ok"), "-n", "300", "-c", "3", "-o", "json"])
    assert code == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert (data["requests"], data["ok"], data["errors"]) == (300, 300, {})
    assert set(data["latency"]) >= {"min_ms", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p99_9_ms",
                                    "max_ms"}
    record = json.loads(Path(data["run_record"]).read_text())
    step = record["steps"][0]
    assert (record["result"], step["name"], step["result"]) == ("ok", "load", "ok")
    assert step["observations"]["ok"] == 300 and step["observations"]["series"]


def test_a_bare_url_gets_the_models_route_and_a_table_is_printed(server, in_tmp, capsys):
    assert run(["load", "sklearn-iris", "--url", f"http://127.0.0.1:{server.port}", "-n", "20"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert f"http://127.0.0.1:{server.port}/v1/models/sklearn-iris:predict" in out
    assert "P99 MS" in out


@pytest.mark.parametrize("argv", [
    ["--duration", "soon"], ["--requests", "5", "--duration", "1s"], ["--rate", "-3"], ["--profile", "10,x@1s"],
    ["--profile", "10,20"], ["--protocol", "v3"], ["--body", "/nonexistent/body.json"], ["--url", "ftp://x"],
    ["--workers", "4", "-c", "2"],
])
def test_bad_input_is_one_line_and_exit_2(argv, in_tmp, capsys):
    assert run(["load", "sklearn-iris", "--url", "http://127.0.0.1:9/x", *argv]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_ctrl_c_stops_cleanly_and_prints_the_partial_result(server, tmp_path):
    command = [sys.executable, "-c", "from kslab.cli.main import entry; entry()", "load", "sklearn-iris",
               "--url", server.url("/ok"), "--duration", "60s", "-c", "2", "-o", "json"]
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert "req/s" in _first_progress_line(process)
        process.send_signal(signal.SIGINT)
        start = time.monotonic()
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert time.monotonic() - start < 3
    assert process.returncode == ExitCode.INTERRUPTED, err
    data = json.loads(out)
    assert data["interrupted"] is True and data["ok"] > 0 and data["elapsed_s"] < 30
    record = json.loads((tmp_path / data["run_record"]).read_text())
    assert record["result"] == "interrupted" and record["steps"][0]["result"] == "interrupted"
    assert "Traceback" not in err


def _first_progress_line(process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if "req/s" in line or not line:
            return line
    return ""
