"""The simulated Job controller and the apiserver's Job strategy (tests/fakecluster/controllers/jobs.py).

Pods here are not run (no image is loaded on the node): the test plays the kubelet's last word by
setting a pod's phase, and checks what the Job controller makes of it.
"""

from __future__ import annotations

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.jobs import compress_indexes
from tests.fakecluster.controllers.lab import ensure_namespace, wait_for
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import EVENTS, PODS, by_key

JOBS = by_key("batch/jobs")
NS = "batch-test"


def _job(name: str = "work", **spec: object) -> dict:
    return {"metadata": {"name": name}, "spec": {
        "template": {"metadata": {"labels": {"app": "work"}},
                     "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.36",
                                                                         "command": ["true"]}]}}, **spec}}


def _pods(cluster: FakeCluster, job: str) -> list[dict]:
    return sorted(cluster.store.list(PODS, NS, label_selector=f"job-name={job}")[0],
                  key=lambda p: p["metadata"]["creationTimestamp"] + p["metadata"]["name"])


def _finish(cluster: FakeCluster, pod: dict, phase: str) -> None:
    """The container exits: once the kubelet stand-in has it Running, end it in ``phase``."""
    name = pod["metadata"]["name"]
    wait_for(lambda: cluster.store.get(PODS, NS, name)["status"].get("phase") == "Running", 2, f"{name} Running")
    cluster.store.mutate(PODS, NS, pod["metadata"]["name"], lambda o: o["status"].update(phase=phase),
                         subresource="status")


def _status(cluster: FakeCluster, name: str = "work") -> dict:
    return cluster.store.get(JOBS, NS, name).get("status") or {}


@pytest.fixture
def cluster(sim_cluster: FakeCluster) -> FakeCluster:
    ensure_namespace(sim_cluster.store, NS)
    return sim_cluster


def test_an_indexed_job_runs_its_indexes_parallelism_at_a_time_and_completes(cluster):
    job = cluster.store.create(JOBS, NS, _job(parallelism=2, completions=3, completionMode="Indexed"))
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert (job["spec"]["backoffLimit"], job["metadata"]["labels"]["job-name"]) == (6, "work")
    first = wait_for(lambda: len(_pods(cluster, "work")) == 2 and _pods(cluster, "work"), 2, "two pods")
    pod = first[0]
    index = pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
    assert pod["metadata"]["name"].startswith(f"work-{index}-") and pod["spec"]["hostname"] == f"work-{index}"
    labels = pod["metadata"]["labels"]
    assert (labels["batch.kubernetes.io/job-name"], labels["controller-uid"], labels["app"]) == ("work", uid, "work")
    assert labels["batch.kubernetes.io/job-completion-index"] == index
    [env] = pod["spec"]["containers"][0]["env"]
    assert env["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['batch.kubernetes.io/job-completion-index']"
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("Job", uid, True)
    assert sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in first) == ["0", "1"]
    _finish(cluster, first[0], "Succeeded")
    third = wait_for(lambda: len(_pods(cluster, "work")) == 3 and _pods(cluster, "work")[-1], 2, "a third pod")
    assert third["metadata"]["name"].startswith("work-2-")
    assert _status(cluster)["completedIndexes"] == index
    for pod in _pods(cluster, "work"):
        if pod["status"]["phase"] != "Succeeded":
            _finish(cluster, pod, "Succeeded")
    wait_for(lambda: find_condition(cluster.store.get(JOBS, NS, "work"), "Complete"), 2, "Complete")
    status = _status(cluster)
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert {c["reason"] for c in status["conditions"]} == {"CompletionsReached"}
    assert (status["succeeded"], status["completedIndexes"], status["ready"]) == (3, "0-2", 0)
    assert "active" not in status
    assert status["completionTime"] >= status["startTime"]


def test_failures_past_the_backoff_limit_fail_the_job_and_remove_its_active_pods(cluster):
    cluster.store.create(JOBS, NS, _job(parallelism=2, completions=4, backoffLimit=1))
    pods = wait_for(lambda: len(_pods(cluster, "work")) == 2 and _pods(cluster, "work"), 2, "two pods")
    assert all(p["metadata"]["name"].startswith("work-") and p["metadata"]["name"].count("-") == 1 for p in pods)
    _finish(cluster, pods[0], "Failed")
    wait_for(lambda: len(_pods(cluster, "work")) == 3, 2, "a replacement pod")  # failed 1 <= backoffLimit 1
    assert _status(cluster)["failed"] == 1
    _finish(cluster, pods[1], "Failed")
    wait_for(lambda: find_condition(cluster.store.get(JOBS, NS, "work"), "Failed"), 2, "Failed")
    status = _status(cluster)
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [
        ("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")]
    assert status["conditions"][1]["message"] == "Job has reached the specified backoff limit"
    assert (status["failed"], "active" in status, "completionTime" in status) == (3, False, False)
    assert [p["status"]["phase"] for p in _pods(cluster, "work")] == ["Failed", "Failed"]
    reasons = [e["reason"] for e in cluster.store.list(EVENTS, NS)[0]]
    assert "BackoffLimitExceeded" in reasons and "SuccessfulCreate" in reasons


@pytest.mark.parametrize(("change", "message"), [
    (lambda j: j["spec"]["template"]["spec"].update(restartPolicy="Always"), 'valid values: "OnFailure", "Never"'),
    (lambda j: j["spec"].update(completionMode="Indexed", parallelism=2),
     "Required value: when completion mode is Indexed"),
    (lambda j: j["spec"].update(parallelism=-1), "must be greater than or equal to 0"),
])
def test_the_api_server_refuses_an_invalid_job(cluster, change, message):
    job = _job()
    change(job)
    with pytest.raises(ApiError) as refused:
        cluster.store.create(JOBS, NS, job)
    assert refused.value.code == 422 and message in str(refused.value)


def test_completed_indexes_are_compressed_into_ranges():
    assert compress_indexes([4, 0, 1, 2, 7, 8]) == "0-2,4,7-8"
    assert compress_indexes([]) == "" and compress_indexes([3]) == "3"
