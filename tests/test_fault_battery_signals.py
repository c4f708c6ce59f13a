"""Fault battery, signals: Ctrl-C (SIGINT) and SIGTERM at several points of a real `kslab` process.

`kslab lab --provider local` runs as a subprocess (the real KServe model server on 127.0.0.1); the signal is sent
while the model server starts, during the smoke checks, and during the load phase. Every case must end the same
way: exit 130 (SIGINT) or 143 (SIGTERM), a run.json that validates against the run schema with result
``interrupted`` (never ok), no traceback in the output or the record, and no model server left running.
`kslab load` and `kslab deploy --provider local` get the same SIGTERM treatment.

The iris model is built once for the module and copied into each case's state directory, so a case only pays for
the model server's start.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest

from kslab.paths import manifests_dir
from tests.leak_guard import leftover_pids
from tests.load_support import TestServer

KSLAB = str(Path(sys.executable).parent / "kslab")
MODEL = "sklearn-iris"
WAIT_S = 90.0
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _schema_errors(record: dict) -> list[str]:
    schema = json.loads((manifests_dir() / "schema" / "run-v1.schema.json").read_text())
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(record)]


@pytest.fixture(scope="module")
def built_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lab's iris model, built once (what `kslab lab` would build) and copied into each case's state dir."""
    pytest.importorskip("kserve", reason="provider local needs the local extra (pip install -e '.[local]')")
    from kslab.modelbuild.builder import ensure_build, models_dir

    state = tmp_path_factory.mktemp("battery-models")
    ensure_build(state, MODEL, "v1")
    return models_dir(state)


@dataclass
class Kslab:
    """A kslab subprocess whose combined output is read line by line as it comes."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    seen: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.seen:
                self.lines.append(line)
                self.seen.notify_all()

    @property
    def output(self) -> str:
        with self.seen:
            return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = WAIT_S) -> None:
        found = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.seen:
            while not any(found.search(line) for line in self.lines):
                left = deadline - time.monotonic()
                assert left > 0 and self.proc.poll() is None, \
                    f"never saw {pattern!r} (exit {self.proc.poll()}):\n{''.join(self.lines)[-3000:]}"
                self.seen.wait(min(left, 0.5))

    def finish(self, timeout: float = WAIT_S) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            raise AssertionError(f"kslab did not end within {timeout} s of the signal:\n{self.output[-3000:]}"
                                 ) from None


@pytest.fixture
def start(tmp_path: Path, built_models: Path) -> Iterator:
    """Start kslab in tmp_path with its own state dir (the built model copied in); kill it if a test fails."""
    state = tmp_path / "state"
    shutil.copytree(built_models, state / "models")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSLAB_") and k != "GITHUB_STEP_SUMMARY"}
    env |= {"KSLAB_STATE_DIR": str(state), "KSLAB_LAB__LOAD_WARMUP": "0s", "KSLAB_LAB__LOAD_PROFILE": "2@30s"}
    started: list[Kslab] = []

    def run(*args: str) -> Kslab:
        proc = subprocess.Popen([KSLAB, *args], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        started.append(Kslab(proc))
        return started[-1]

    yield run
    for kslab in started:
        if kslab.proc.poll() is None:
            os.killpg(kslab.proc.pid, signal.SIGKILL)
            kslab.proc.wait(10)
    for pid in leftover_pids(str(tmp_path), children=False):  # only after a failure: end what the case leaked
        os.kill(pid, signal.SIGKILL)


def _record(cwd: Path, command: str) -> dict:
    [path] = cwd.glob(f"reports/*-{command}-*/run.json")
    text = path.read_text()
    assert "Traceback" not in text
    return json.loads(text)


def _assert_interrupted(kslab: Kslab, cwd: Path, sig: signal.Signals, command: str) -> dict:
    code = kslab.finish()
    output = kslab.output
    assert code == EXIT[sig], output[-3000:]
    assert "Traceback" not in output and "unexpected" not in output, output[-3000:]
    assert "Result: ok" not in output
    record = _record(cwd, command)
    assert _schema_errors(record) == []
    assert record["result"] == "interrupted" and record["finished_at"]
    assert leftover_pids(str(cwd), children=False) == [], "a model server outlived kslab"
    return record


def _step(record: dict, name: str) -> dict:
    return next(s for s in record["steps"] if s["name"] == name)


SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]


@pytest.mark.parametrize("sig", SIGNALS)
def test_lab_local_signalled_while_the_model_server_starts(start, tmp_path: Path, sig: signal.Signals) -> None:
    kslab = start("lab", "--provider", "local", "--ci")
    kslab.wait_for(r"deploy: install")
    time.sleep(0.5)  # the server process is starting (it takes seconds to answer ready)
    os.kill(kslab.proc.pid, sig)
    record = _assert_interrupted(kslab, tmp_path, sig, "lab")
    assert not any(s["name"].startswith("smoke: ") for s in record["steps"])  # it stopped before the smoke
    assert any(s["result"] == "interrupted" for s in record["steps"])


@pytest.mark.parametrize("sig", SIGNALS)
def test_lab_local_signalled_during_the_smoke_checks(start, tmp_path: Path, sig: signal.Signals) -> None:
    kslab = start("lab", "--provider", "local", "--ci")
    kslab.wait_for(r"smoke: ok ")
    os.kill(kslab.proc.pid, sig)
    record = _assert_interrupted(kslab, tmp_path, sig, "lab")
    assert any(s["name"].startswith("smoke: ") for s in record["steps"])


@pytest.mark.parametrize("sig", SIGNALS)
def test_lab_local_signalled_during_the_load_phase_is_interrupted_not_ok(start, tmp_path: Path,
                                                                         sig: signal.Signals) -> None:
    kslab = start("lab", "--provider", "local", "--ci")
    kslab.wait_for(r"load: load .*\d+ req/s")  # the load engine is measuring (its own handler is installed)
    os.kill(kslab.proc.pid, sig)
    record = _assert_interrupted(kslab, tmp_path, sig, "lab")
    load = _step(record, "load")
    assert load["result"] == "interrupted" and load["observations"]["interrupted"] is True
    assert load["observations"]["requests"] > 0  # the partial measurement is kept
    assert load["duration_s"] < 20  # stopped, not run to the end of its 30 s step


def test_load_sigterm_keeps_the_partial_result_and_exits_143(start, tmp_path: Path) -> None:
    with TestServer() as server:
        kslab = start("load", MODEL, "--url", server.url("/ok"), "--duration", "30s", "-c", "2")
        kslab.wait_for(r"req/s")
        os.kill(kslab.proc.pid, signal.SIGTERM)
        record = _assert_interrupted(kslab, tmp_path, signal.SIGTERM, "load")
    load = _step(record, "load")
    assert load["result"] == "interrupted" and load["observations"]["requests"] > 0


def test_deploy_local_sigterm_stops_the_server_it_started(start, tmp_path: Path) -> None:
    kslab = start("deploy", MODEL, "--provider", "local")
    kslab.wait_for(r"run record: ")
    time.sleep(1.0)  # the model server is starting
    os.kill(kslab.proc.pid, signal.SIGTERM)
    _assert_interrupted(kslab, tmp_path, signal.SIGTERM, "deploy")
