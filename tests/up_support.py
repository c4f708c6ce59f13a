"""The ``lab_env`` fixture for tests that run ``kslab up`` (and friends) on the fake kind/minikube/docker tools."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakecluster.tools.fixture import FakeTools


@pytest.fixture(name="lab_env")
def lab_env_fixture(fake_tools: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTools:
    """The fake tools first on PATH, kslab's state and working directory under tmp_path, no KSLAB_* from outside."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KSLAB_TIMEOUTS__INSTALL", "60")
    return fake_tools
