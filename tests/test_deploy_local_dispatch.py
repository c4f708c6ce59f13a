"""With provider local, kslab deploy/undeploy hand over to kslab.lab.local (the data plane's service)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode


@dataclass
class FakeStatus:
    name: str

    def to_dict(self) -> dict:
        return {"name": self.name, "url": "http://127.0.0.1:1234", "ready": True}


@pytest.fixture
def local_calls(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KSLAB_PROVIDER", "local")
    calls = []

    def deploy_local(settings, name, version="v1", record=None):
        calls.append(("deploy", settings.provider, name, version, record is not None))
        return FakeStatus(name)

    def undeploy_local(settings, name):
        calls.append(("undeploy", settings.provider, name))
        return True

    monkeypatch.setattr("kslab.lab.local.deploy_local", deploy_local)
    monkeypatch.setattr("kslab.lab.local.undeploy_local", undeploy_local)
    return calls


def test_local_deploy_and_undeploy_call_the_local_runtime(local_calls, capsys):
    assert run(["-o", "json", "deploy", "sklearn-iris"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["url"] == "http://127.0.0.1:1234"
    assert run(["-o", "json", "undeploy", "sklearn-iris"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["action"] == "stopped"
    assert local_calls == [("deploy", "local", "sklearn-iris", "v1", True), ("undeploy", "local", "sklearn-iris")]


def test_cluster_only_flags_are_refused_for_local(local_calls, capsys):
    assert run(["deploy", "sklearn-iris", "--storage", "pvc"]) == ExitCode.USAGE
    assert "--storage applies only to a cluster" in capsys.readouterr().err
    assert local_calls == []


def test_local_deploy_serves_the_chosen_model_version(local_calls, capsys):
    assert run(["-o", "json", "deploy", "sklearn-iris", "--model-version", "v2"]) == ExitCode.OK
    assert local_calls == [("deploy", "local", "sklearn-iris", "v2", True)]
