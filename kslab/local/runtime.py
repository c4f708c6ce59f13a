"""Start, watch and stop the local KServe model server (``python -m kslab.local.server``) for one model.

One runtime per model name. Its state lives in ``<state dir>/local/<name>.json`` (the state dir is the
session's, Environment.state_dir, passed in as ``state``) (pid, port, model dir,
started_at, log file, the server's start time and argv) and its output in ``<state dir>/local/<name>.log``.
The server runs in its own process group on 127.0.0.1, so ``stop`` can end it and anything it spawned.

A record names a live server only while the pid's start time and command line are still the recorded ones
and that command line is this state dir's server for this model (its ``--port-file`` is
``<state dir>/local/<name>.port``): a pid reused by another program, another state dir's server or a record
with pid <= 1 is never signalled. Records written before start time and argv were kept count only when the
pid's command line is exactly the one kslab would have started for them. State that names no live server is
removed when it is read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kslab.errors import CheckFailed, UsageError, WaitTimeout
from kslab.local import identity, process
from kslab.modelbuild.builder import MODEL_FILE, sha256_file
from kslab.models.endpoint import Endpoint
from kslab.util.atomic import write_json

HOST = "127.0.0.1"
READY_PATH = "/v2/health/ready"
PORT_FILE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class LocalDeployment:
    name: str
    pid: int
    port: int
    model_dir: str
    started_at: str
    log_file: str
    model_sha256: str | None = None  # of the model file when the server started (what it loaded)
    start_time: str | None = None  # identity.start_time of pid when it was started (None: an older record)
    argv: tuple[str, ...] | None = None  # the server's exact argv (None: an older record)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"url": self.base_url}


def local_dir(state: Path) -> Path:
    """Where the runtimes of kslab's state dir ``state`` keep their files."""
    return state / "local"


def _state_file(state: Path, name: str) -> Path:
    return local_dir(state) / f"{name}.json"


def _port_file(state: Path, name: str) -> Path:
    return local_dir(state) / f"{name}.port"


def lock_file(state: Path, name: str) -> Path:
    """Held (kslab.util.filelock) by whoever deploys or stops ``name``'s runtime under ``state``."""
    return local_dir(state) / f"{name}.lock"


def log_file(state: Path, name: str) -> Path:
    return local_dir(state) / f"{name}.log"


def _state_of(deployment: LocalDeployment) -> Path:
    """The state dir a deployment was started under (its log file lives in <state>/local/)."""
    return Path(deployment.log_file).parent.parent


def log_tail(state: Path, name: str, lines: int = 12) -> str:
    try:
        text = log_file(state, name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _forget(state: Path, name: str) -> None:
    _state_file(state, name).unlink(missing_ok=True)
    _port_file(state, name).unlink(missing_ok=True)


def _read_state(state: Path, name: str) -> LocalDeployment | None:
    """The record for ``name``; None when missing or malformed (a pid <= 1 or a non-integer port included)."""
    try:
        data = json.loads(_state_file(state, name).read_text(encoding="utf-8"))
        fields = {k: data[k] for k in LocalDeployment.__dataclass_fields__ if k in data}
        if fields.get("argv") is not None:
            fields["argv"] = tuple(str(arg) for arg in fields["argv"])
        deployment = LocalDeployment(**fields)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    port_ok = isinstance(deployment.port, int) and not isinstance(deployment.port, bool)
    if (not identity.valid_pid(deployment.pid) or not port_ok or deployment.name != name
            or not isinstance(deployment.model_dir, str)):
        return None
    return deployment


def server_argv(state: Path, name: str, model_dir: Path | str, port: int | None) -> list[str]:
    """The command line of ``name``'s server under ``state``: its ``--port-file`` path names the state dir."""
    return [sys.executable, "-m", process.SERVER_MODULE, "--name", name, "--model-dir", str(Path(model_dir)),
            "--port", str(port or 0), "--port-file", str(_port_file(state, name))]


def _argvs(state: Path, deployment: LocalDeployment) -> list[list[str]]:
    """The command lines the record's server may have been started with under ``state`` (any free port or its own)."""
    return [server_argv(where, deployment.name, deployment.model_dir, port)
            for where in dict.fromkeys((state, state.absolute())) for port in (None, deployment.port)]


def _is_ours(state: Path, deployment: LocalDeployment) -> bool:
    """Is the record's pid still the server it names, started under ``state``? See the module docstring."""
    pid = deployment.pid
    if not process.alive(pid):
        return False
    actual = identity.command_line(pid)
    if actual is None:
        return False
    if deployment.argv is None or deployment.start_time is None:  # older record: the exact command line or not ours
        return actual in [" ".join(argv) for argv in _argvs(state, deployment)]
    recorded = list(deployment.argv)
    return (recorded[1:] in [argv[1:] for argv in _argvs(state, deployment)]
            and actual == " ".join(recorded) and identity.start_time(pid) == deployment.start_time)


def status(state: Path, name: str) -> LocalDeployment | None:
    """The running runtime for ``name``; a stale or unreadable state file is removed and None returned."""
    deployment = _read_state(state, name)
    if deployment is not None and _is_ours(state, deployment):
        return deployment
    if _state_file(state, name).exists():
        _forget(state, name)
    return None


def _failure_hint(state: Path, name: str) -> str:
    tail = log_tail(state, name)
    where = f"full log: {log_file(state, name)}"
    return f"last lines of the server log:\n{tail}\n{where}" if tail else where


def _exited(deployment: LocalDeployment) -> CheckFailed:
    code = process.exit_code(deployment.pid)
    state = _state_of(deployment)
    _forget(state, deployment.name)
    return CheckFailed(f"the local model server for {deployment.name} exited"
                       + (f" with code {code}" if code is not None else "") + " before it was ready",
                       _failure_hint(state, deployment.name))


def _wait_port(deployment: LocalDeployment) -> int:
    """The port the server bound, from its port file; on any failure ``start`` stops the server."""
    state = _state_of(deployment)
    deadline = time.monotonic() + PORT_FILE_TIMEOUT_S
    port_file = _port_file(state, deployment.name)
    while time.monotonic() < deadline:
        try:
            return int(port_file.read_text().strip())
        except (OSError, ValueError):
            pass
        if not process.alive(deployment.pid):
            raise _exited(deployment)
        time.sleep(0.02)
    raise WaitTimeout(f"local model server for {deployment.name}: waited {PORT_FILE_TIMEOUT_S:g}s for it to bind "
                      f"{HOST} (port file {port_file})", _failure_hint(state, deployment.name))


def start(state: Path, name: str, model_dir: Path, port: int | None = None) -> LocalDeployment:
    """Spawn the model server for ``name`` serving ``model_dir``; returns once it has bound its port.

    ``port`` None picks a free port (the server binds port 0 and reports the one it got). Readiness is
    separate: call ``wait_ready``. UsageError when a runtime for ``name`` is already running.
    """
    running = status(state, name)
    if running is not None:
        raise UsageError(f"a local runtime for {name} is already running (pid {running.pid}, {running.base_url})",
                         f"stop it first: kslab undeploy {name} --provider local")
    local_dir(state).mkdir(parents=True, exist_ok=True)
    _forget(state, name)
    argv = server_argv(state.absolute(), name, model_dir, port)
    # The child is this Python running kslab.local.server: it needs this process's real environment (PATH,
    # VIRTUAL_ENV, PYTHONPATH, ...), which it would inherit anyway; a session's Environment is kslab's view of
    # it, not a replacement, so the child still gets os.environ.
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with log_file(state, name).open("wb") as log:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True, close_fds=True)
    process.adopt(child)
    try:
        started_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        model_file = Path(model_dir) / MODEL_FILE
        deployment = LocalDeployment(name, child.pid, port or 0, str(Path(model_dir)), started_at,
                                     str(log_file(state, name)),
                                     sha256_file(model_file) if model_file.is_file() else None,
                                     identity.start_time(child.pid), tuple(argv))
        write_json(_state_file(state, name), deployment.to_dict())  # at once: a crash here still leaves the pid
        bound = dataclasses.replace(deployment, port=_wait_port(deployment))
        write_json(_state_file(state, name), bound.to_dict())
    except BaseException:  # Ctrl-C, SIGTERM, a failed wait: the server this call started goes with it
        abandon(state, name, child.pid)
        raise
    return bound


def abandon(state: Path, name: str, pid: int) -> None:
    """Stop the server ``pid`` that this process started for ``name`` and remove its state.

    For a start that did not finish (an interrupt, a failed wait): unlike ``stop`` it needs no record, since
    the caller holds the pid it just spawned. A state file naming another process is left alone.
    """
    if process.alive(pid):
        process.terminate_group(pid, grace_s=5.0)
    record = _read_state(state, name)
    if record is None or record.pid == pid:
        _forget(state, name)


def _get_json(url: str, timeout_s: float) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            return json.loads(answer.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def is_ready(deployment: LocalDeployment, timeout_s: float = 2.0) -> bool:
    """GET /v2/health/ready answered {"ready": true}."""
    answer = _get_json(deployment.base_url + READY_PATH, timeout_s)
    return bool(answer and answer.get("ready") is True)


def wait_ready(deployment: LocalDeployment, timeout_s: float) -> float:
    """Poll GET /v2/health/ready until {"ready": true}; the seconds it took. CheckFailed if the server exits."""
    start_time = time.monotonic()
    while True:
        if is_ready(deployment, timeout_s=1.0):
            return time.monotonic() - start_time
        if not process.alive(deployment.pid):
            raise _exited(deployment)
        if time.monotonic() - start_time >= timeout_s:
            raise WaitTimeout(f"local model server for {deployment.name}: waited {timeout_s:g}s for GET "
                              f"{deployment.base_url}{READY_PATH} to answer {{\"ready\": true}}",
                              _failure_hint(_state_of(deployment), deployment.name))
        time.sleep(0.05)


def stop(state: Path, name: str, grace_s: float = 10.0) -> bool:
    """SIGTERM the runtime's process group (SIGKILL after ``grace_s``) and remove its state; False if none ran."""
    deployment = _read_state(state, name)
    running = deployment is not None and _is_ours(state, deployment)
    if running:
        process.terminate_group(deployment.pid, grace_s)
    _forget(state, name)
    return running


def recorded(state: Path) -> list[str]:
    """The models with a runtime record under ``state`` (running or stale)."""
    return sorted(path.stem for path in local_dir(state).glob("*.json"))


def endpoint(state: Path, name: str) -> Endpoint | None:
    """The Endpoint of the running runtime for ``name`` (V1 and V2, no Host header), or None."""
    deployment = status(state, name)
    if deployment is None:
        return None
    return Endpoint(base_url=deployment.base_url, model_name=name, protocols=("v1", "v2"), via="local")
