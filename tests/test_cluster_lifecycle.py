"""kslab up / status / down end to end on the fake cluster with fake kind, helm and docker on PATH."""

from __future__ import annotations

import json
import os

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode


@pytest.fixture
def lab_env(fake_tools, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    for name in [n for n in os.environ if n.startswith("KSLAB_") and n != "KSLAB_STATE_DIR"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_TIMEOUTS__INSTALL", "60")
    return fake_tools


def test_up_on_kind_installs_the_stack(lab_env, capsys):
    code = run(["-o", "json", "up"])
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.err
    summary = json.loads(captured.out)
    assert summary["created"] is True
    assert summary["components"] == {"cert-manager": "installed", "istio": "installed",
                                     "ingress-class": "installed", "knative": "installed", "kserve": "installed",
                                     "runtimes": "installed"}
