"""Helpers for the kslab deploy tests: a seeded fake cluster, running kslab in-process, reading run records."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kslab.cli.main import run
from tests.conftest import GCS_API_ENV
from tests.fake_gcs import FakeGcs
from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import install_and_wait
from tests.fakecluster.resources import ISVCS, NODES, PODS

NS, NAME = "kserve-test", "sklearn-iris"
SAMPLE_URI = "gs://kfserving-examples/models/sklearn/1.0/model"
MISSING_URI = "gs://kfserving-examples/models/sklearn/1.0/model-missing"


@dataclass
class Lab:
    cluster: FakeCluster
    tmp_path: Path

    @property
    def store(self) -> Any:
        return self.cluster.store

    @property
    def knobs(self) -> Any:
        return self.cluster.controllers.settings

    def seed(self, **kwargs: Any) -> Lab:
        """An installed stack (lean: no cert-manager/Istio) and the lab namespace, within ~0.3 s."""
        install_and_wait(self.store, self.knobs, **{"lean": True, **kwargs})
        return self

    def isvc(self, name: str = NAME) -> dict | None:
        return self.store.find(ISVCS, NS, name)

    def set_node_cpu(self, cpu: str) -> None:
        self.store.mutate(NODES, None, self.cluster.node_name,
                          lambda n: n["status"]["allocatable"].update(cpu=cpu), subresource="status")

    def used_cpu_millis(self) -> int:
        """CPU the already-bound pods request on the node (what the scheduler accounts for)."""
        from kslab.deploy.lint import pod_requests

        pods = self.store.list(PODS)[0]
        return sum(pod_requests(p)[0] for p in pods if (p.get("spec") or {}).get("nodeName"))

    def record(self) -> dict:
        """The newest run record."""
        [latest] = sorted((self.tmp_path / "reports").glob("*/run.json"))[-1:]
        return json.loads(latest.read_text())

    def records(self) -> list[Path]:
        return sorted((self.tmp_path / "reports").glob("*/run.json"))


def kslab(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ready_status(isvc: dict | None) -> str | None:
    return (find_condition(isvc or {}, "Ready") or {}).get("status")


@pytest.fixture(name="lab")
def lab_fixture(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_gcs: FakeGcs) -> Lab:
    """A fake cluster (not yet seeded), kslab pointed at it as an existing cluster, run records under tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_PROVIDER", "existing")
    monkeypatch.setenv(GCS_API_ENV, fake_gcs.url)
    # explicit: the kubernetes client reads $KUBECONFIG once, when it is first imported in this process
    monkeypatch.setenv("KSLAB_KUBECONFIG", str(fake_cluster.kubeconfig_path))  # type: ignore[attr-defined]
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    if fake_cluster.controllers is not None:  # the node downloads gs:// models from the same stand-in kslab asks
        fake_cluster.controllers.settings.public_storage = fake_gcs.has
    return Lab(fake_cluster, tmp_path)
