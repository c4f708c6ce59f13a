"""A fake cluster for the whole `kslab lab` run: nothing seeded, so `kslab up` installs the stack itself.

The scenario harness's router and pod binder stand behind it (tests/scenario_harness/). Because `up`
installs Istio through the fake helm, the gateway pod appears only during the run; the pod binder points
its port 80 at the router as soon as it exists, as a kubelet would start the real gateway container.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.deploy_support import Lab
from tests.fakecluster.tools.fixture import FakeTools
from tests.scenario_harness.binder import PodBinder
from tests.scenario_harness.fixture import serving
from tests.scenario_harness.router import Router
from tests.scenario_harness.runtimes import RuntimePool


@dataclass
class LabRun:
    lab: Lab
    tools: FakeTools
    router: Router
    binder: PodBinder


@pytest.fixture(name="lab_run")
def lab_run_fixture(lab: Lab, fake_tools: FakeTools, scenario_runtimes: RuntimePool) -> Iterator[LabRun]:
    with serving(lab.cluster, scenario_runtimes) as (router, binder):
        yield LabRun(lab, fake_tools, router, binder)
