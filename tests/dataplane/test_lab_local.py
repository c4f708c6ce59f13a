"""`kslab lab --provider local`, the README's no-Docker main job: build, serve for real, smoke, record, exit 0."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.leak_guard import leftover_pids


def test_lab_on_the_local_provider_runs_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KSLAB_LAB__LOAD_PROFILE", "1,4@1s")  # short: two steps of one second each
    monkeypatch.setenv("KSLAB_LAB__LOAD_WARMUP", "0s")
    code = run(["-o", "json", "lab", "--provider", "local"])
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.err
    summary = json.loads(captured.out)
    assert summary["smoke"] == {"passed": 14, "failed": 0}  # -o json: numbers (issue 14)
    record = json.loads(Path(summary["run_record"]).read_text())
    assert record["result"] == "ok" and record["command"] == "lab"
    results = {s["name"]: s["result"] for s in record["steps"]}
    assert results["model-build"] == results["ready"] == results["smoke: v1 predict sample 1"] == "ok"
    assert results["scenarios"] == "skipped" and results["load"] == "ok"
    scenarios = next(s for s in record["steps"] if s["name"] == "scenarios")["observations"]
    assert "needs a cluster provider" in scenarios["reason"]
    load = next(s for s in record["steps"] if s["name"] == "load")["observations"]
    assert [step["level"] for step in load["steps"]] == [1.0, 4.0]
    assert load["error_total"] == 0 and load["requests"] > 100  # the real runtime answers ~1-2k req/s
    assert 0 < load["latency"]["p50_ms"] <= load["latency"]["p99_ms"] < 1000
    assert summary["throughput_rps"] == load["throughput_rps"] > 0
    run_dir = Path(summary["run_record"]).parent
    for name in ("report.md", "junit.xml", "report.html"):
        assert (run_dir / name).stat().st_size > 0, name
    assert f"{load['latency']['p99_ms']}" in (run_dir / "report.md").read_text()
    predict = next(s for s in record["steps"] if s["name"] == "smoke: v2 infer sample 1")["observations"]
    assert predict["actual"] == [1, 1] and predict["latency_ms"] > 0
    assert leftover_pids(str(tmp_path), children=False) == []  # --no-keep (the default) stopped the model server
