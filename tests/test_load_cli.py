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
    # issue 14: absurd rates, a warm-up that leaves nothing to measure, more connections than open files
    ["--rate", "1e12"], ["--rate", "inf"], ["--rate", "nan"], ["--warmup", "5s", "--duration", "2s"],
    ["--warmup", "10s"], ["--profile", "1,2@1s", "--warmup", "2s"], ["-c", "100000000"],
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


def test_concurrency_past_the_open_file_limit_names_the_limit_and_the_fix(in_tmp, capsys):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        code = run(["load", "sklearn-iris", "--url", "http://127.0.0.1:9/x", "-c", "1000", "--duration", "1s"])
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    assert "--concurrency 1000 needs 1064 open files per load worker" in err and "(256, ulimit -n)" in err
    assert "hint: raise the limit first (ulimit -n 1064)" in err
    assert not (in_tmp / "reports").exists()  # refused before anything ran


def test_throughput_counts_only_ok_answers_and_all_failed_exits_1(server, in_tmp, capsys):
    code = run(["load", "sklearn-iris", "--url", server.url("/status/500"), "--duration", "1s", "-c", "2",
                "-o", "json"])
    captured = capsys.readouterr()
    assert code == ExitCode.CHECK_FAILED, captured.err
    data = json.loads(captured.out)  # the result is printed all the same
    assert data["requests"] > 0 and data["ok"] == 0 and data["errors"] == {"HTTP 500": data["requests"]}
    assert data["throughput_rps"] == 0.0
    assert f"error: every one of the {data['requests']} requests failed (HTTP 500 {data['requests']})" in captured.err
    record = json.loads(Path(data["run_record"]).read_text())
    step = record["steps"][0]
    assert (record["result"], step["result"]) == ("failed", "failed")
    assert "every one of" in step["error"] and step["observations"]["ok"] == 0


def test_refused_connections_are_a_failed_run(in_tmp, capsys):
    code = run(["load", "sklearn-iris", "--url", "http://127.0.0.1:9/x", "--duration", "1s", "-c", "2"])
    assert code == ExitCode.CHECK_FAILED
    assert "requests failed (connect " in capsys.readouterr().err


def test_an_open_loop_short_of_its_rate_warns_and_fails_under_ci(server, in_tmp, capsys):
    argv = ["load", "sklearn-iris", "--url", server.url("/ok"), "--rate", "200000", "-c", "1", "--duration", "1s",
            "-o", "json"]
    assert run(argv) == ExitCode.OK
    captured = capsys.readouterr()
    rate = json.loads(captured.out)["rate"]
    assert rate["target_rps"] == 200000 and rate["reached"] is False and rate["late"] > 0
    assert "warning: the open loop did not reach its rate" in captured.err and "of 200,000 req/s" in captured.err
    assert run([*argv, "--ci"]) == ExitCode.CHECK_FAILED
    captured = capsys.readouterr()
    assert "error: the open loop did not reach its rate" in captured.err
    record = json.loads(Path(json.loads(captured.out)["run_record"]).read_text())
    assert record["result"] == "failed" and record["steps"][0]["observations"]["rate"]["reached"] is False


def test_an_open_loop_that_keeps_up_is_not_flagged(server, in_tmp, capsys):
    assert run(["load", "sklearn-iris", "--url", server.url("/ok"), "--rate", "20", "--duration", "1s", "--ci",
                "-o", "json"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rate"]["reached"] is True and "warning" not in captured.err
