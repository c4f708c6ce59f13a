"""Run records for the report tests: real ones made by running kslab, and scenario entries in the contract's shape.

``real_lab_run`` runs `kslab lab --provider local` once per test session (the real KServe model server,
smoke checks and a short load profile); ``real_load_run`` runs `kslab load --url` against the in-process
TestServer. The scenario engine records ``scenarios[]``; until it lands, ``with_scenarios`` adds entries in
exactly the shape the scenario engineers agreed to (canary passed, autoscale failed, raw-mode skipped,
cold-start error), carrying a real load result so the plots have real numbers.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.load_support import TestServer

_CACHE: dict[str, Path] = {}


def _clean_env(patch: pytest.MonkeyPatch, cwd: Path) -> None:
    patch.chdir(cwd)
    for name in [n for n in os.environ if n.startswith("KSLAB_") or n == "GITHUB_STEP_SUMMARY"]:
        patch.delenv(name)


def real_lab_run(factory: pytest.TempPathFactory) -> Path:
    """The run directory of one real `kslab lab --provider local` (cached for the session)."""
    if "lab" not in _CACHE:
        cwd = factory.mktemp("report-lab")
        with pytest.MonkeyPatch.context() as patch:
            _clean_env(patch, cwd)
            patch.setenv("KSLAB_STATE_DIR", str(cwd / "state"))
            patch.setenv("KSLAB_LAB__LOAD_PROFILE", "1,4@1s")
            patch.setenv("KSLAB_LAB__LOAD_WARMUP", "0s")
            code = run(["-o", "json", "lab", "--provider", "local"])
        assert code == ExitCode.OK
        [record] = sorted((cwd / "reports").glob("*-lab-*/run.json"))
        _CACHE["lab"] = record.parent
    return _CACHE["lab"]


def real_load_run(factory: pytest.TempPathFactory) -> Path:
    """The run directory of a real `kslab load --url ... --profile 1,3@1s` against the TestServer (cached)."""
    if "load" not in _CACHE:
        cwd = factory.mktemp("report-load")
        with pytest.MonkeyPatch.context() as patch, TestServer() as server:
            _clean_env(patch, cwd)
            code = run(["-o", "json", "load", "sklearn-iris", "--url", server.url("/ok"), "--profile", "1,3@1s"])
        assert code == ExitCode.OK
        [record] = sorted((cwd / "reports").glob("*-load-*/run.json"))
        _CACHE["load"] = record.parent
    return _CACHE["load"]


def read(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "run.json").read_text())


def write_run(reports_dir: Path, record: dict[str, Any], run_id: str | None = None) -> Path:
    """Store ``record`` as a new run (a fresh directory) under ``reports_dir``; returns the run directory."""
    record = copy.deepcopy(record)
    if run_id is not None:
        record["run_id"] = run_id
    directory = reports_dir / record["run_id"]
    directory.mkdir(parents=True, exist_ok=False)
    (directory / "run.json").write_text(json.dumps(record, indent=2))
    return directory


def run_id(offset_s: int, command: str = "lab", suffix: str = "0000") -> str:
    stamp = (dt.datetime(2026, 11, 24, 1, 0, 0) + dt.timedelta(seconds=offset_s)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{command}-{suffix}"


def load_of(record: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in record["steps"] if s["name"] == "load")["observations"]


def _iso(base: dt.datetime, seconds: float) -> str:
    return (base + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canary_scenario(load: dict[str, Any], start: dt.datetime) -> dict[str, Any]:
    split = {"revisions": {"sklearn-iris-predictor-00001": {"requests": 812, "observed_percent": 81.2,
                                                             "configured_percent": 80},
                           "sklearn-iris-predictor-00002": {"requests": 188, "observed_percent": 18.8,
                                                            "configured_percent": 20}},
             "total": 1000, "tolerance_points": 5, "max_deviation_points": 1.2, "within_tolerance": True}
    return {
        "name": "canary", "file": "scenarios/canary.yaml", "description": "Roll out v2 with 20 % canary traffic.",
        "verdict": "passed", "reason": None, "params": {"canary_percent": 20},
        "started_at": _iso(start, 0), "finished_at": _iso(start, 40), "duration_s": 40.0,
        "steps": [
            {"name": "deploy v1", "action": "deploy", "phase": "main", "result": "ok", "duration_s": 12.0,
             "inputs": {"version": "v1"}, "observations": {}, "error": None, "started_at": _iso(start, 0)},
            {"name": "canary 20", "action": "patch", "phase": "main", "result": "ok", "duration_s": 8.0,
             "inputs": {"canaryTrafficPercent": 20}, "observations": {}, "error": None, "started_at": _iso(start, 12)},
            {"name": "measure split", "action": "observe", "phase": "main", "result": "ok", "duration_s": 10.0,
             "inputs": {"observe": "traffic-split", "with": {"requests": 1000}}, "observations": split, "error": None,
             "started_at": _iso(start, 20)},
        ],
        "assertions": [
            {"name": "split within tolerance", "step": "measure split",
             "expected": {"sklearn-iris-predictor-00002": 20},
             "observed": {"sklearn-iris-predictor-00002": 18.8}, "tolerance": "±5 points", "ok": True,
             "message": "max deviation 1.2 points"},
            {"name": "no errors during rollout", "step": "measure split", "expected": 0, "observed": 0,
             "tolerance": None, "ok": True, "message": "0 errors"},
        ],
        "timelines": {
            "conditions": [{"t_s": 0.5, "type": "Ready", "status": "False", "reason": "RevisionMissing"},
                           {"t_s": 11.0, "type": "Ready", "status": "True", "reason": None}],
            "traffic": [{"t_s": 11.0, "targets": [{"revisionName": "sklearn-iris-predictor-00001", "percent": 100,
                                                   "tag": None, "latestRevision": True}]},
                        {"t_s": 19.0, "targets": [{"revisionName": "sklearn-iris-predictor-00001", "percent": 80,
                                                   "tag": "prev", "latestRevision": False},
                                                  {"revisionName": "sklearn-iris-predictor-00002", "percent": 20,
                                                   "tag": "latest", "latestRevision": True}]}],
            "replicas": [{"t_s": 0.0, "name": "00001", "ready": 0, "desired": 1},
                         {"t_s": 10.0, "name": "00001", "ready": 1, "desired": 1},
                         {"t_s": 14.0, "name": "00002", "ready": 0, "desired": 1},
                         {"t_s": 18.0, "name": "00002", "ready": 1, "desired": 1}],
        },
        "events": [{"t_s": 12.0, "at": _iso(start, 12), "label": "canary 20 % applied"}],
        "load": [dict(copy.deepcopy(load), step="measure split")],
        "diagnosis": None,
    }


def failed_scenarios(start: dt.datetime) -> list[dict[str, Any]]:
    return [
        {"name": "autoscale", "file": "scenarios/autoscale.yaml", "description": "Scale out under load.",
         "verdict": "failed", "reason": "assertion 'scaled out' failed", "params": {}, "started_at": _iso(start, 40),
         "finished_at": _iso(start, 100), "duration_s": 60.0,
         "steps": [{"name": "load", "action": "load", "phase": "main", "result": "ok", "duration_s": 30.0,
                    "inputs": {}, "observations": {}, "error": None}],
         "assertions": [{"name": "scaled out", "step": "load", "expected": ">= 3 replicas", "observed": 1,
                         "tolerance": None, "ok": False, "message": "only 1 replica ready\x07 after 30 s"},
                        {"name": "no 5xx", "step": "load", "expected": 0, "observed": 0, "tolerance": None, "ok": True,
                         "message": None}],
         "timelines": {"replicas": [{"t_s": 0.0, "name": "00001", "ready": 1, "desired": 1},
                                    {"t_s": 5.0, "name": "00001", "ready": 1, "desired": 3}]},
         "events": [], "load": [], "diagnosis": {"layer": "autoscaler", "signature": "pods Pending: Insufficient cpu",
                                                 "hint": "lower the requests or add a node"}},
        {"name": "raw-mode", "verdict": "skipped", "reason": "RawDeployment is not installed", "assertions": []},
        {"name": "cold-start", "verdict": "error", "reason": "timed out waiting for Ready", "assertions": [],
         "steps": [{"name": "wait", "result": "failed", "error": "WaitTimeout", "phase": "main"}],
         "diagnosis": {"layer": "revision", "signature": "ProgressDeadlineExceeded"}},
    ]


def with_scenarios(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` plus scenarios[] in the scenario engine's contract shape (see the module docstring)."""
    out = copy.deepcopy(record)
    start = dt.datetime.fromisoformat(out["started_at"].replace("Z", "+00:00"))
    out["scenarios"] = [canary_scenario(load_of(out), start), *failed_scenarios(start)]
    out["cluster"] = {"nodes": 1, "kubernetes": "v1.34.0", "cpu": "4", "memory": "8Gi"}
    out["stack"] = {"kserve": "0.20.0", "knative-serving": "1.19.0"}
    return out


@pytest.fixture(name="workdir")
def workdir_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory (reports/ lands there), with no step summary or kslab.yaml from outside."""
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_STEP_SUMMARY", "KSLAB_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
