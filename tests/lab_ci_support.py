"""A fake cluster for the whole `kslab lab` run: nothing seeded, so `kslab up` installs the stack itself.

The scenario harness's router and pod binder stand behind it (tests/scenario_harness/). Because `up`
installs Istio through the fake helm, the gateway pod appears only during the run: ``GatewayBinder``
registers every istio-ingressgateway pod's port 80 to the router as soon as it exists, as a kubelet
would start the real gateway container.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.deploy_support import Lab
from tests.fakecluster.resources import PODS
from tests.fakecluster.tools.fixture import FakeTools
from tests.scenario_harness.binder import PodBinder
from tests.scenario_harness.fixture import URI_VERSIONS
from tests.scenario_harness.router import Router
from tests.scenario_harness.runtimes import RuntimePool

GATEWAY_SELECTOR = ("istio", "ingressgateway")


class GatewayBinder:
    def __init__(self, cluster: Any, url: str) -> None:
        self.cluster = cluster
        self.url = url
        self.bound: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="gateway-binder")

    def start(self) -> GatewayBinder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        key, value = GATEWAY_SELECTOR
        while not self._stop.wait(0.02):
            pods, _ = self.cluster.store.list(PODS, "istio-system")
            for pod in pods:
                name = pod["metadata"]["name"]
                if (pod["metadata"].get("labels") or {}).get(key) == value and name not in self.bound:
                    self.cluster.node.register_proxy("istio-system", name, 80, self.url)
                    self.bound.add(name)


@dataclass
class LabRun:
    lab: Lab
    tools: FakeTools
    router: Router
    binder: PodBinder
    gateways: GatewayBinder


@pytest.fixture(name="lab_run")
def lab_run_fixture(lab: Lab, fake_tools: FakeTools, scenario_runtimes: RuntimePool) -> Iterator[LabRun]:
    router = Router(lab.cluster).start()
    binder = PodBinder(lab.cluster, scenario_runtimes, router.url, URI_VERSIONS).start()
    gateways = GatewayBinder(lab.cluster, router.url).start()
    try:
        yield LabRun(lab, fake_tools, router, binder, gateways)
    finally:
        gateways.stop()
        binder.stop()
        router.stop()
        scenario_runtimes.release_all()
        scenario_runtimes.stop_explainers()
    assert not binder.errors, "binding pods to runtimes failed:\n" + "\n".join(binder.errors)
