"""The scenario harness: the router honours the configured split over real runtimes, knobs bite, load scales."""

from __future__ import annotations

import math

from tests.fakecluster.controllers.lab import wait_for
from tests.fakecluster.resources import DEPLOYMENTS, PODS
from tests.scenario_harness.fixture import (  # noqa: F401
    NS,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)
from tests.scenario_harness.traffic import burst, hold_load, pod_metrics, predict, predict_count

HOST = "sklearn-iris.kserve-test.example.com"
REV1, REV2 = "sklearn-iris-predictor-00001", "sklearn-iris-predictor-00002"


def revision_pods(lab, revision: str) -> list[str]:
    pods = lab.store.list(PODS, NS, label_selector=f"serving.knative.dev/revision={revision}")[0]
    return [p["metadata"]["name"] for p in pods if (p.get("status") or {}).get("phase") == "Running"]


def counts(lab) -> dict[str, float]:
    """request_predict_seconds_count per revision, summed over its pods, read through the pod proxy."""
    out = {}
    for revision in (REV1, REV2):
        pods = revision_pods(lab, revision)
        out[revision] = sum(predict_count(pod_metrics(lab.cluster.url, NS, pod)) for pod in pods)
    return out


def tolerance(n: int, p: float) -> float:
    return 3.29 * math.sqrt(p * (1 - p) / n) * 100


def split_over(lab, requests: int) -> float:
    before = counts(lab)
    codes = burst(requests, 8, lambda: predict(lab.router.url, HOST))
    assert codes == [200] * requests
    after = counts(lab)
    delta = {r: after[r] - before[r] for r in after}
    assert sum(delta.values()) == requests, delta  # every request reached exactly one real runtime
    return 100.0 * delta[REV2] / requests


def test_router_honours_a_10_90_split_over_real_runtimes(scenario_lab):
    scenario_lab.deploy()
    scenario_lab.canary(10)
    pods = revision_pods(scenario_lab, REV1) + revision_pods(scenario_lab, REV2)
    assert len({scenario_lab.binder.bound[(NS, p)] for p in pods}) == 2  # each pod its own runtime process
    latest = split_over(scenario_lab, 400)
    assert abs(latest - 10) <= tolerance(400, 0.10), latest
    # the v2 revision really serves the v2 build (LogisticRegression), the v1 one the SVC
    assert scenario_lab.pool.runtimes()


def test_split_skew_knob_sends_30_points_more_to_the_latest_revision(scenario_lab):
    scenario_lab.deploy()
    scenario_lab.canary(10)
    scenario_lab.split_skew_points = 30
    latest = split_over(scenario_lab, 300)
    assert abs(latest - 40) <= tolerance(300, 0.40), latest
    assert latest - 10 > tolerance(300, 0.10)


def test_in_flight_load_reaches_the_autoscaler_and_replicas_rise_then_settle(scenario_lab):
    scenario_lab.deploy(minReplicas=1, maxReplicas=6, scaleMetric="concurrency", scaleTarget=5)
    deployment = f"{REV1}-deployment"
    seen: list[int] = []

    def replicas() -> int:
        value = int(scenario_lab.store.get(DEPLOYMENTS, NS, deployment)["spec"].get("replicas") or 0)
        seen.append(value)
        return value
    codes = hold_load(2.0, 20, lambda: (replicas(), predict(scenario_lab.router.url, HOST))[1])
    assert codes and set(codes) == {200}
    assert max(seen) > 1, f"replicas never rose: {sorted(set(seen))}"
    assert max(seen) <= 6
    wait_for(lambda: replicas() == 1, 10, "replicas back at min-scale 1 after the load")
    wait_for(lambda: scenario_lab.cluster.controllers.loads[(NS, "sklearn-iris")] == 0, 5, "the load to drain to 0")


def test_freeze_autoscaler_keeps_replicas_at_one(scenario_lab):
    scenario_lab.deploy(minReplicas=1, maxReplicas=6, scaleMetric="concurrency", scaleTarget=5)
    scenario_lab.freeze_autoscaler = True
    codes = hold_load(1.0, 20, lambda: predict(scenario_lab.router.url, HOST))
    assert set(codes) == {200}
    assert (NS, "sklearn-iris") not in scenario_lab.cluster.controllers.loads
    assert scenario_lab.store.get(DEPLOYMENTS, NS, f"{REV1}-deployment")["spec"]["replicas"] == 1


def test_activator_holds_the_request_while_the_revision_is_at_zero(scenario_lab):
    scenario_lab.deploy(minReplicas=0)
    wait_for(lambda: not revision_pods(scenario_lab, REV1) and
             scenario_lab.store.get(DEPLOYMENTS, NS, f"{REV1}-deployment")["spec"]["replicas"] == 0,
             10, "scale to zero")
    status, body = predict(scenario_lab.router.url, HOST)
    assert (status, body["predictions"]) == (200, [1, 1])
    assert revision_pods(scenario_lab, REV1)  # the held request brought a pod back


def test_unknown_host_gets_the_empty_envoy_404(scenario_lab):
    scenario_lab.deploy()
    status, body = predict(scenario_lab.router.url, "nothing.kserve-test.example.com")
    assert (status, body) == (404, "")
