"""The local runtime as a deploy target: the real KServe model server on 127.0.0.1 instead of an InferenceService.

What the local provider (kslab.providers.local) offers as ``provider.runtime``, for ``kslab deploy/undeploy``,
``kslab lab`` and every request sent to a locally served model:

Each takes ``state``: kslab's state dir (the session's Environment.state_dir), under which the runtimes and
model builds live.

- ``deploy_local(settings, name, version="v1", record=None, *, state, replace=True) -> LocalStatus`` builds the
  model if it is not built yet, starts the runtime (or keeps the one already serving that build), waits for
  ``/v2/health/ready`` and returns the runtime's status. Steps go into ``record`` when one is given. Interrupted
  (Ctrl-C, SIGTERM) or failed after it started a server, it stops that server and leaves no state behind.
- ``undeploy_local(settings, name, *, state) -> bool`` stops the runtime; False when nothing was running.

Deploy and undeploy of one model hold ``<state>/local/<name>.lock`` (kslab.util.filelock) throughout, so two
commands at once (two ``kslab deploy --provider local``, a deploy and an undeploy) run one after the other: the
second deploy finds the first one's server and keeps it.
- ``local_status(settings, name, *, state) -> LocalStatus | None`` what is running, read honestly from the process and
  its health endpoint (no Kubernetes conditions are invented).
- ``local_endpoint(settings, name, *, state) -> Endpoint`` where ``kslab predict/smoke`` send requests.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kslab.config.model import Settings
from kslab.errors import UsageError
from kslab.local import runtime
from kslab.modelbuild.builder import ensure_build, find_build
from kslab.models.catalog import catalog_model
from kslab.models.endpoint import Endpoint
from kslab.models.run_record import RunRecord
from kslab.models.steps import step
from kslab.util.filelock import file_lock

LOCK_MARGIN_S = 120  # beyond the ready timeout, what a holder of the model's lock may spend: build, port, stop


@dataclass(frozen=True)
class LocalStatus:
    """A local runtime as it really is: a process, a port, a model file and the server's own readiness."""

    name: str
    kind: str  # always "local runtime"
    version: str | None
    pid: int
    port: int
    url: str
    ready: bool  # GET /v2/health/ready answered {"ready": true}
    model_dir: str
    model_sha256: str | None  # of the model file the server loaded at start
    estimator: str | None
    started_at: str
    log_file: str
    action: str = "running"  # deploy_local: started | replaced | unchanged

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _status(deployment: runtime.LocalDeployment, action: str = "running") -> LocalStatus:
    build = find_build(Path(deployment.model_dir))
    if build is not None and build.sha256 != deployment.model_sha256:
        build = None  # rebuilt since the server started: its metadata no longer describes what is served
    return LocalStatus(
        name=deployment.name, kind="local runtime", version=build.version if build else None, pid=deployment.pid,
        port=deployment.port, url=deployment.base_url, ready=runtime.is_ready(deployment),
        model_dir=deployment.model_dir, model_sha256=deployment.model_sha256,
        estimator=build.estimator if build else None, started_at=deployment.started_at,
        log_file=deployment.log_file, action=action)


def _model_lock(settings: Settings, state: Path, name: str) -> AbstractContextManager[None]:
    return file_lock(runtime.lock_file(state, name), settings.timeouts.deploy + LOCK_MARGIN_S,
                     f"command to deploy or stop {name} locally")


def deploy_local(settings: Settings, name: str, version: str = "v1", record: RunRecord | None = None, *,
                 state: Path, replace: bool = True) -> LocalStatus:
    """Build ``name``/``version`` if needed and serve it on 127.0.0.1 with the KServe model server; wait Ready.

    Idempotent: a ready runtime already serving the same model file (same sha256) is kept ("unchanged"); one
    serving anything else is stopped and replaced ("replaced"), or with ``replace`` False left alone (UsageError).
    Raises WaitTimeout (exit 4) when the server is not ready within ``settings.timeouts.deploy`` seconds, with the
    last lines of its log.
    """
    catalog_model(name).build(version)  # unknown model or version: UsageError before anything starts
    with _model_lock(settings, state, name):
        return _deploy_locked(settings, name, version, record, state, replace)


def _deploy_locked(settings: Settings, name: str, version: str, record: RunRecord | None, state: Path,
                   replace: bool) -> LocalStatus:
    with step(record, "model-build", model=name, version=version) as obs:
        build = ensure_build(state, name, version)
        obs.update(model_dir=str(build.model_dir), sha256=build.sha256, accuracy=build.accuracy,
                   estimator=build.estimator, built=build.built)
    current = runtime.status(state, name)
    if current is not None and current.model_sha256 == build.sha256 and runtime.is_ready(current):
        with step(record, "local-runtime", model=name) as obs:
            obs.update(action="unchanged", pid=current.pid, port=current.port)
        return _status(current, "unchanged")
    action = "started"
    if current is not None:
        if not replace:
            raise UsageError(f"a local runtime for {name} that this command did not start is running (pid "
                             f"{current.pid}, {current.base_url}) and does not serve {name} {version} ready",
                             f"stop it first: kslab undeploy {name} --provider local")
        runtime.stop(state, name)
        action = "replaced"
    deployment: runtime.LocalDeployment | None = None
    try:
        with step(record, "local-runtime", model=name) as obs:
            deployment = runtime.start(state, name, build.model_dir)
            obs.update(action=action, pid=deployment.pid, port=deployment.port, log_file=deployment.log_file)
        with step(record, "ready", model=name, timeout_s=settings.timeouts.deploy) as obs:
            waited = runtime.wait_ready(deployment, timeout_s=settings.timeouts.deploy)
            obs.update(waited_s=round(waited, 3), url=deployment.base_url)
        return _status(deployment, action)
    except BaseException:  # interrupted or failed: the server this call started does not outlive it
        if deployment is not None:
            runtime.abandon(state, name, deployment.pid)
        raise


def undeploy_local(settings: Settings, name: str, *, state: Path) -> bool:
    """Stop the local runtime serving ``name``; True when one was running."""
    with _model_lock(settings, state, name):
        return runtime.stop(state, name)


def local_status(settings: Settings, name: str, *, state: Path) -> LocalStatus | None:
    """The runtime serving ``name`` (None when none is running; stale state is cleaned on the way)."""
    deployment = runtime.status(state, name)
    return _status(deployment) if deployment is not None else None


def local_endpoint(settings: Settings, name: str, *, state: Path) -> Endpoint:
    """Where the local runtime serving ``name`` answers; UsageError when it is not running."""
    catalog_model(name)
    endpoint = runtime.endpoint(state, name)
    if endpoint is None:
        raise UsageError(f"{name} is not deployed locally",
                         f"run 'kslab deploy {name} --provider local'")
    return endpoint


class LocalRuntime:
    """The functions above bound to one settings object and state dir: what ``LocalProvider.runtime`` hands out.

    It remembers which servers it started itself, so a command that only borrows a model (``kslab lab``) can
    ``release`` what it started and leave a server someone else started running.
    """

    def __init__(self, settings: Settings, state: Path) -> None:
        self.settings = settings
        self.state = state
        self._started: dict[str, int] = {}  # model -> pid of the server this runtime object started

    def deploy(self, name: str, version: str = "v1", record: RunRecord | None = None, *,
               replace: bool = True) -> LocalStatus:
        status = deploy_local(self.settings, name, version, record, state=self.state, replace=replace)
        if status.action in ("started", "replaced"):
            self._started[name] = status.pid
        return status

    def undeploy(self, name: str) -> bool:
        return undeploy_local(self.settings, name, state=self.state)

    def release(self, name: str) -> bool:
        """Stop ``name``'s server if this runtime object started it (and it still runs); True when it stopped one."""
        pid = self._started.pop(name, None)
        if pid is None:
            return False
        with _model_lock(self.settings, self.state, name):
            current = runtime.status(self.state, name)
            return current is not None and current.pid == pid and runtime.stop(self.state, name)

    def undeploy_all(self) -> list[str]:
        """Stop every local runtime under this state dir; the models that were being served."""
        return [name for name in runtime.recorded(self.state) if self.undeploy(name)]

    def status(self, name: str) -> LocalStatus | None:
        return local_status(self.settings, name, state=self.state)

    def endpoint(self, name: str) -> Endpoint:
        return local_endpoint(self.settings, name, state=self.state)


__all__ = ["LocalRuntime", "LocalStatus", "deploy_local", "local_endpoint", "local_status", "undeploy_local"]
