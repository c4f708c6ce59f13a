"""kslab load against the real KServe model server on 127.0.0.1 (the session's iris runtime)."""

from __future__ import annotations

import json

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.dataplane.conftest import MODEL

pytestmark = pytest.mark.usefixtures("iris_runtime", "in_tmp_cwd")


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_load_the_real_model_server_without_errors(protocol, capsys):
    argv = ["load", MODEL, "--provider", "local", "--protocol", protocol, "-n", "400", "-c", "4", "-o", "json"]
    assert run(argv) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    latency = data["latency"]
    assert (data["requests"], data["ok"], data["error_total"], data["unfinished"]) == (400, 400, 0, 0)
    assert data["target"].endswith(f"/v1/models/{MODEL}:predict" if protocol == "v1" else f"/v2/models/{MODEL}/infer")
    assert 0.05 < latency["min_ms"] <= latency["p50_ms"] <= latency["p90_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert latency["p50_ms"] < 50 and latency["max_ms"] < 2000
    assert data["throughput_rps"] > 50


def test_a_wrong_body_is_counted_as_http_500(tmp_path, capsys):
    body = tmp_path / "bad.json"
    body.write_text('{"instances": [[1.0, 2.0]]}')
    argv = ["load", MODEL, "--provider", "local", "--body", str(body), "-n", "20", "-c", "2", "-o", "json"]
    assert run(argv) == ExitCode.CHECK_FAILED  # a load where every request fails is a failed run (issue 14)
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # the measurement is still printed, then the one-line reason
    assert result["errors"] == {"HTTP 500": 20} and result["ok"] == 0 and result["throughput_rps"] == 0
    assert "every one of the 20 requests failed (HTTP 500 20)" in captured.err
