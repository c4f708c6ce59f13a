"""Readiness waits are as long as upstream's: 600 s.

KServe's SDK waits 600 s for an InferenceService (kserve/kserve@v0.20.0:python/kserve/kserve/api/kserve_client.py,
wait_isvc_ready timeout_seconds) and Knative gives a revision 600 s to come up (knative/serving
config/core/configmaps/deployment.yaml, progress-deadline). A shorter wait gives up on a cold kind node that is
still pulling a runtime image.
"""

from __future__ import annotations

import pytest

from kslab.config.model import Settings, Timeouts
from kslab.deploy.request import DeployRequest
from kslab.paths import scenarios_dir
from kslab.scenarios.loader import read_scenario
from kslab.util.durations import duration_seconds

UPSTREAM_S = 600
SCENARIOS = sorted(scenarios_dir().glob("*.yaml"))


def test_deploy_waits_600_s_by_default():
    assert Timeouts().deploy == UPSTREAM_S
    assert Settings().timeouts.deploy == UPSTREAM_S
    assert DeployRequest(name="sklearn-iris", mode="knative").timeout == UPSTREAM_S


def test_there_are_built_in_scenarios():
    assert len(SCENARIOS) >= 9


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_built_in_scenario_waits_at_least_600_s_for_readiness(path):
    params = read_scenario(path).params
    assert "ready_timeout" in params, f"{path.name} has no ready_timeout parameter"
    assert (duration_seconds(str(params["ready_timeout"])) or 0) >= UPSTREAM_S, params["ready_timeout"]
