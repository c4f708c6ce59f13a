"""Provider local, through the provider object every service asks: no cluster, and `kslab deploy/undeploy` and
every request go to the real KServe model server on 127.0.0.1 (no stand-in for the runtime)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kslab.cli.main import run
from kslab.config.model import Settings
from kslab.errors import UsageError
from kslab.exitcodes import ExitCode
from kslab.inference.client import InferenceClient
from kslab.local import runtime
from kslab.providers.local import LocalProvider
from kslab.providers.registry import make_provider
from kslab.session import Environment, Session
from tests.dataplane.conftest import MODEL
from tests.leak_guard import pid_gone
from tests.state_support import cli_state_dir as _state

pytestmark = pytest.mark.usefixtures("isolated_state", "in_tmp_cwd")


def test_the_registry_maps_local_to_a_provider_without_a_cluster():
    provider = make_provider(Settings(provider="local"), Environment.from_process())
    assert isinstance(provider, LocalProvider)
    assert (provider.has_cluster, provider.creates_clusters, provider.runtime is not None) == (False, False, True)
    assert provider.preflight() == [] and provider.node_images() is None
    for ask in (provider.kube, provider.access, provider.client_access):
        with pytest.raises(UsageError) as refused:
            ask()
        assert "provider local has no Kubernetes" in refused.value.message
    with pytest.raises(UsageError) as nothing, provider.endpoint(MODEL):
        pass
    assert nothing.value.message == f"{MODEL} is not deployed locally"


def test_cluster_only_flags_are_refused_before_anything_starts(capsys):
    assert run(["deploy", MODEL, "--provider", "local", "--storage", "pvc"]) == ExitCode.USAGE
    assert "--storage applies only to a cluster" in capsys.readouterr().err
    assert runtime.status(_state(), MODEL) is None


def test_deploy_dispatches_to_the_local_runtime_which_serves_the_chosen_version(capsys):
    assert run(["-o", "json", "deploy", MODEL, "--provider", "local", "--model-version", "v2"]) == ExitCode.OK
    deployed = json.loads(capsys.readouterr().out)
    try:
        assert (deployed["kind"], deployed["version"], deployed["ready"]) == ("local runtime", "v2", True)
        record = json.loads(Path(deployed["run_record"]).read_text())
        assert (record["command"], record["result"]) == ("deploy", "ok")
        assert [s["name"] for s in record["steps"]] == ["model-build", "local-runtime", "ready"]
        provider = Session(Settings(provider="local")).provider
        with provider.endpoint(MODEL) as endpoint, InferenceClient(endpoint) as client:
            assert (endpoint.base_url, endpoint.via) == (deployed["url"], "local")
            answer = client.send("v1", [[6.8, 2.8, 4.8, 1.4]])
        assert answer.ok and answer.predictions == [1]
        with pytest.raises(UsageError) as forwarded, provider.endpoint(MODEL, port=8080):
            pass
        assert forwarded.value.message == "--port and --pod need a cluster provider"
    finally:
        assert run(["-o", "json", "undeploy", MODEL, "--provider", "local"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out) == {"name": MODEL, "provider": "local", "action": "stopped"}
    assert pid_gone(deployed["pid"]) and runtime.status(_state(), MODEL) is None
    assert run(["-o", "json", "undeploy", MODEL, "--provider", "local"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["action"] == "absent"
