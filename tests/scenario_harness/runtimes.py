"""Real KServe model servers for the scenario harness, one process per (model name, model version).

Each runtime is ``python -m kslab.local.server`` (PyPI ``kserve``'s ModelServer on 127.0.0.1) serving a
model trained by kslab's modelbuild, kslab's own explainer (``python -m kslab.explainer``, the code the
explainer image runs) or the ART explainer stand-in (``art_explainer.py``). A pool
hands a *dedicated* runtime to each predictor pod while it has one free, so per-pod ``/metrics`` counters
are the pod's own (see README.md); pods beyond the cap share a runtime of their model.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from kslab.local import process

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
START_TIMEOUT_S = 60.0
KSLAB_EXPLAINER = "explainer"  # pool versions of explainer runtimes (their arguments come from the pod)
ART_EXPLAINER = "explainer-art"


@dataclass
class Runtime:
    """One model-server process on 127.0.0.1."""

    key: tuple[str, str]  # (model name, version) or (model name, "explainer..." + its arguments)
    pid: int
    url: str
    users: set[str] = field(default_factory=set)  # pods currently bound to it

    def alive(self) -> bool:
        return process.alive(self.pid)


def _wait_port(child: subprocess.Popen[bytes], port_file: Path, log: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            return int(port_file.read_text().strip())
        except (OSError, ValueError):
            pass
        if child.poll() is not None:
            raise RuntimeError(f"model server exited with {child.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.02)
    raise RuntimeError(f"model server did not bind within {START_TIMEOUT_S}s: {log.read_text()[-2000:]}")


def wait_ready(url: str, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with NO_PROXY.open(url + "/v2/health/ready", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url}/v2/health/ready never answered 200 within {timeout_s}s")


def spawn(argv: list[str], workdir: Path) -> tuple[int, str]:
    """Start a server module writing its port to a file; return (pid, base URL) once it is ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    port_file = Path(tempfile.mkdtemp(dir=workdir)) / "server.port"
    log = port_file.with_suffix(".log")
    with log.open("wb") as out:
        child = subprocess.Popen([sys.executable, "-m", *argv, "--port-file", str(port_file)],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True, close_fds=True)
    process.adopt(child)
    try:
        url = f"http://127.0.0.1:{_wait_port(child, port_file, log)}"
        wait_ready(url)
    except BaseException:
        process.terminate_group(child.pid, 2)
        raise
    return child.pid, url


class RuntimePool:
    """Model servers by (model name, version); ``acquire`` binds one to a pod, ``release`` unbinds it."""

    def __init__(self, model_dirs: dict[str, Path], workdir: Path, dedicated_cap: int = 2) -> None:
        self.model_dirs = dict(model_dirs)  # version -> directory holding model.joblib
        self.workdir = workdir
        self.dedicated_cap = dedicated_cap  # runtimes per (model, version) before pods start sharing
        self._runtimes: dict[tuple[str, str], list[Runtime]] = {}
        self._lock = threading.Lock()
        self._spawning: dict[tuple[str, str], threading.Lock] = {}

    def _start(self, key: tuple[str, str], extra: list[str] | None = None) -> Runtime:
        name, version = key
        if version.startswith(ART_EXPLAINER):
            argv = ["tests.scenario_harness.art_explainer", *(extra or [])]
        elif version.startswith(KSLAB_EXPLAINER):
            argv = ["kslab.explainer", *(extra or [])]
        else:
            argv = [process.SERVER_MODULE, "--name", name, "--model-dir", str(self.model_dirs[version])]
        pid, url = spawn(argv, self.workdir)
        return Runtime(key, pid, url)

    def warm(self, name: str, version: str, count: int) -> None:
        """Start ``count`` runtimes for (name, version) now, in parallel (each takes a few seconds)."""
        key = (name, version)
        started: list[Runtime] = []
        errors: list[BaseException] = []

        def one() -> None:
            try:
                started.append(self._start(key))
            except BaseException as exc:  # reported below
                errors.append(exc)
        threads = [threading.Thread(target=one) for _ in range(count - len(self._runtimes.get(key, [])))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with self._lock:
            self._runtimes.setdefault(key, []).extend(started)
        if errors:
            raise errors[0]

    def acquire(self, pod: str, name: str, version: str, extra: list[str] | None = None) -> Runtime:
        """A free runtime for the pod; a new one while under the cap; else the least shared one.
        Runtimes started with ``extra`` arguments are only shared with pods asking for the same ones."""
        key = (name, version if not extra else f"{version}:{' '.join(extra)}")
        with self._lock:
            spawn_lock = self._spawning.setdefault(key, threading.Lock())
        with spawn_lock:
            with self._lock:
                live = [r for r in self._runtimes.get(key, []) if r.alive()]
                self._runtimes[key] = live
                free = [r for r in live if not r.users]
                if free or len(live) >= max(self.dedicated_cap, 1):
                    chosen = free[0] if free else min(live, key=lambda r: len(r.users))
                    chosen.users.add(pod)
                    return chosen
            runtime = self._start(key, extra)
            with self._lock:
                runtime.users.add(pod)
                self._runtimes.setdefault(key, []).append(runtime)
            return runtime

    def release(self, pod: str) -> None:
        with self._lock:
            for runtimes in self._runtimes.values():
                for runtime in runtimes:
                    runtime.users.discard(pod)

    def release_all(self) -> None:
        with self._lock:
            for runtimes in self._runtimes.values():
                for runtime in runtimes:
                    runtime.users.clear()

    def stop_explainers(self) -> None:
        """Explainers know the router of one test: stop them when that test's harness goes away."""
        with self._lock:
            doomed = [r for key, rs in self._runtimes.items() if key[1].startswith("explainer") for r in rs]
            self._runtimes = {k: v for k, v in self._runtimes.items() if not k[1].startswith("explainer")}
        for runtime in doomed:
            process.terminate_group(runtime.pid, 5)

    def runtimes(self) -> list[Runtime]:
        with self._lock:
            return [r for rs in self._runtimes.values() for r in rs]

    def stop(self) -> None:
        for runtime in self.runtimes():
            process.terminate_group(runtime.pid, 5)
        with self._lock:
            self._runtimes.clear()
