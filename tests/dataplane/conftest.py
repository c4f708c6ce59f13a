"""Fixtures for the data-plane tests: the real KServe model server on 127.0.0.1.

No stub answers inference here: models are trained with scikit-learn and served by PyPI ``kserve``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kslab.config.model import Settings
from kslab.local.deploy import LocalStatus, deploy_local, undeploy_local
from tests.leak_guard import pid_gone

MODEL = "sklearn-iris"


@pytest.fixture(scope="session")
def session_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("kslab-state")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KSLAB_STATE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def local_settings() -> Settings:
    return Settings(provider="local")


@pytest.fixture(scope="session")
def iris_runtime(session_state_dir: Path, local_settings: Settings) -> Iterator[LocalStatus]:
    """sklearn-iris v1 served by the real KServe model server, started once for the whole session."""
    status = deploy_local(local_settings, MODEL, "v1", state=session_state_dir)
    try:
        yield status
    finally:
        undeploy_local(local_settings, MODEL, state=session_state_dir)
    assert pid_gone(status.pid), f"model server pid {status.pid} survived undeploy"


@pytest.fixture
def in_tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run CLI commands from an empty directory: no stray kslab.yaml, reports/ lands in tmp."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_") and n != "KSLAB_STATE_DIR"]:
        monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state dir of this test's own (its runtimes and models are invisible to other tests)."""
    path = tmp_path / "state"
    monkeypatch.setenv("KSLAB_STATE_DIR", str(path))
    return path
