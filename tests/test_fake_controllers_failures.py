"""Failure modes of the simulated cluster, each with the facts file's signature (facts §4.3, §8)."""

from __future__ import annotations

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import install_and_wait, install_runtimes, sklearn_iris, wait_for
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import (
    CLUSTER_RUNTIMES,
    DEPLOYMENTS,
    EVENTS,
    ISVCS,
    KSVCS,
    NODES,
    PODS,
    REVISIONS,
)

NS, NAME = "kserve-test", "sklearn-iris"
MISSING_URI = "gs://kfserving-examples/models/sklearn/1.0/model-missing"
UNSCHEDULABLE = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                 "1 No preemption victims found for incoming pod.")


def events_for(cluster: FakeCluster, name: str, ns: str = NS) -> dict[str, dict]:
    return {e["reason"]: e for e in cluster.store.list(EVENTS, ns)[0] if e["involvedObject"]["name"] == name}


def isvc_where(cluster: FakeCluster, predicate, what: str, timeout: float = 5.0) -> dict:
    return wait_for(lambda: (o := cluster.store.find(ISVCS, NS, NAME)) and predicate(o) and o, timeout, what)


def model_status(isvc: dict) -> dict:
    return (isvc.get("status") or {}).get("modelStatus") or {}


def not_ready(isvc: dict) -> None:
    assert (find_condition(isvc, "Ready") or {}).get("status") != "True"


def test_unknown_runtime_then_runtime_appears(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, runtimes=False, lean=True)
    body = sklearn_iris()
    body["spec"]["predictor"]["model"]["runtime"] = "kserve-sklearnserver"
    store.create(ISVCS, NS, body)
    isvc = isvc_where(sim_cluster, lambda o: model_status(o).get("lastFailureInfo"), "lastFailureInfo")
    assert model_status(isvc)["transitionStatus"] == "InvalidSpec"
    assert model_status(isvc)["states"] == {"activeModelState": "", "targetModelState": "FailedToLoad"}
    assert model_status(isvc)["lastFailureInfo"] == {"reason": "RuntimeNotRecognized",
                                                     "message": "Waiting for runtime to become available"}
    not_ready(isvc)
    assert isvc["status"]["observedGeneration"] == 1
    event = wait_for(lambda: events_for(sim_cluster, NAME).get("InternalError"), 2, "InternalError event")
    assert event["type"] == "Warning"
    assert event["message"] == "No ServingRuntimes or ClusterServingRuntimes with the name: kserve-sklearnserver"
    assert store.find(KSVCS, NS, "sklearn-iris-predictor") is None

    install_runtimes(store, sim_cluster.controllers.settings)
    isvc_where(sim_cluster, lambda o: (find_condition(o, "Ready") or {}).get("status") == "True",
               "Ready once the runtime exists")


def test_no_supporting_runtime(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, runtimes=False, lean=True)
    store.create(ISVCS, NS, sklearn_iris())
    isvc = isvc_where(sim_cluster, lambda o: model_status(o).get("lastFailureInfo"), "lastFailureInfo")
    assert model_status(isvc)["lastFailureInfo"] == {
        "reason": "NoSupportingRuntime", "message": "No runtime found to support specified framework/version"}
    event = wait_for(lambda: events_for(sim_cluster, NAME).get("InternalError"), 2, "InternalError event")
    assert event["message"] == "no runtime found to support predictor with model type: {sklearn <nil>}"


def test_explicit_runtime_without_the_protocol(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, lean=True)
    body = sklearn_iris()
    body["spec"]["predictor"]["model"].update(runtime="kserve-mlserver", protocolVersion="v1")
    store.create(ISVCS, NS, body)
    isvc = isvc_where(sim_cluster, lambda o: model_status(o).get("lastFailureInfo"), "lastFailureInfo")
    assert model_status(isvc)["lastFailureInfo"] == {
        "reason": "NoSupportingRuntime", "message": "Specified runtime does not support specified protocol version"}


def test_storage_initializer_crash_loop(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    sim_cluster.controllers.settings.failing_storage_uris = {MISSING_URI}
    install_and_wait(store, sim_cluster.controllers.settings, lean=True)
    store.create(ISVCS, NS, sklearn_iris(storage_uri=MISSING_URI))

    def crash_looping() -> dict | None:
        pods = store.list(PODS, NS, label_selector="serving.kserve.io/inferenceservice=sklearn-iris")[0]
        for pod in pods:
            for cs in pod["status"].get("initContainerStatuses") or []:
                if (cs["state"].get("waiting") or {}).get("reason") == "CrashLoopBackOff":
                    return pod
        return None
    pod = wait_for(crash_looping, 3, "Init:CrashLoopBackOff")
    [init] = pod["status"]["initContainerStatuses"]
    assert init["name"] == "storage-initializer" and init["restartCount"] >= 1
    assert init["lastState"]["terminated"]["exitCode"] == 1
    assert init["lastState"]["terminated"]["reason"] == "Error"
    assert pod["status"]["phase"] == "Pending"
    signature = f"RuntimeError: Failed to fetch model. The path or model {MISSING_URI} does not exist."
    assert signature in sim_cluster.node.log(NS, pod["metadata"]["name"], "storage-initializer")
    assert events_for(sim_cluster, pod["metadata"]["name"])["BackOff"]["type"] == "Warning"

    isvc = isvc_where(sim_cluster, lambda o: model_status(o).get("lastFailureInfo"), "ModelLoadFailed")
    model = model_status(isvc)
    assert model["transitionStatus"] == "BlockedByFailedLoad"
    assert model["states"]["targetModelState"] == "FailedToLoad"
    assert model["lastFailureInfo"]["reason"] == "ModelLoadFailed"
    assert model["lastFailureInfo"]["exitCode"] == 1
    assert signature in model["lastFailureInfo"]["message"]
    not_ready(isvc)
    assert find_condition(isvc, "PredictorReady")["reason"] == "RevisionMissing"
    revision = store.get(REVISIONS, NS, "sklearn-iris-predictor-00001")
    assert (find_condition(revision, "Ready")["status"], find_condition(revision, "Ready")["reason"]) == \
        ("Unknown", "Deploying")


def test_insufficient_cpu_keeps_predictor_pending(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, lean=True)
    store.mutate(NODES, None, "kslab-control-plane", lambda n: n["status"]["allocatable"].update(cpu="1500m"),
                 subresource="status")
    store.create(ISVCS, NS, sklearn_iris(cpu=None))  # runtime default: 1 CPU / 2Gi

    def unschedulable() -> dict | None:
        for pod in store.list(PODS, NS, label_selector="serving.kserve.io/inferenceservice=sklearn-iris")[0]:
            cond = find_condition(pod, "PodScheduled")
            if cond and cond["status"] == "False":
                return pod
        return None
    pod = wait_for(unschedulable, 3, "an unschedulable predictor pod")
    cond = find_condition(pod, "PodScheduled")
    assert (cond["reason"], cond["message"]) == ("Unschedulable", UNSCHEDULABLE)
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}
    event = wait_for(lambda: events_for(sim_cluster, pod["metadata"]["name"]).get("FailedScheduling"), 2,
                     "FailedScheduling")
    assert event["message"] == UNSCHEDULABLE
    isvc = isvc_where(sim_cluster, lambda o: find_condition(o, "PredictorReady"), "PredictorReady")
    assert find_condition(isvc, "PredictorReady")["status"] == "Unknown"
    assert find_condition(isvc, "PredictorReady")["reason"] == "RevisionMissing"
    not_ready(isvc)

    store.mutate(NODES, None, "kslab-control-plane", lambda n: n["status"]["allocatable"].update(cpu="8"),
                 subresource="status")
    isvc_where(sim_cluster, lambda o: (find_condition(o, "Ready") or {}).get("status") == "True", "Ready")


def test_progress_deadline_fails_the_revision(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, lean=True)
    sim_cluster.controllers.settings.progress_deadline = 0.3
    store.mutate(NODES, None, "kslab-control-plane", lambda n: n["status"]["allocatable"].update(cpu="1500m"),
                 subresource="status")
    store.create(ISVCS, NS, sklearn_iris(cpu=None))
    isvc = isvc_where(sim_cluster, lambda o: (find_condition(o, "PredictorReady") or {}).get("status") == "False",
                      "PredictorReady False")
    cond = find_condition(isvc, "PredictorReady")
    assert (cond["reason"], cond["message"]) == \
        ("RevisionMissing", 'Configuration "sklearn-iris-predictor" does not have any ready Revision.')
    cond = find_condition(isvc, "PredictorConfigurationReady")
    assert (cond["status"], cond["reason"]) == ("False", "RevisionFailed")
    assert cond["message"] == \
        'Revision "sklearn-iris-predictor-00001" failed with message: Initial scale was never achieved.'
    assert find_condition(isvc, "Ready")["status"] == "False"
    revision = store.get(REVISIONS, NS, "sklearn-iris-predictor-00001")
    assert find_condition(revision, "Ready")["reason"] == "ProgressDeadlineExceeded"


def test_webhook_not_ready_forced(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, lean=True)
    sim_cluster.controllers.settings.webhook_ready = False
    with pytest.raises(ApiError) as err:
        store.create(ISVCS, NS, sklearn_iris())
    assert (err.value.code, err.value.reason) == (500, "InternalError")
    assert 'failed calling webhook "inferenceservice.kserve-webhook-server.defaulter"' in err.value.message
    assert 'no endpoints available for service "kserve-webhook-server-service"' in err.value.message
    assert err.value.status()["details"]["causes"][0]["message"].startswith("failed calling webhook")
    sim_cluster.controllers.settings.webhook_ready = None
    store.create(ISVCS, NS, sklearn_iris())


def test_webhook_rejects_until_the_controller_is_available(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    settings = sim_cluster.controllers.settings
    settings.time_scale = 10.0  # the controller pod takes ~1 s to become ready
    from tests.fakecluster.controllers.lab import ensure_namespace, install_lab_stack, stack_ready

    install_lab_stack(store, settings, knative=False, mode="Standard", lean=True)
    ensure_namespace(store, NS)
    with pytest.raises(ApiError) as err:
        store.create(ISVCS, NS, sklearn_iris())
    assert 'no endpoints available for service "kserve-webhook-server-service"' in err.value.message
    wait_for(lambda: stack_ready(store, knative=False), 5, "kserve-controller-manager Available")
    store.create(ISVCS, NS, sklearn_iris())


def test_runtime_webhook_refuses_during_warmup(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    settings = sim_cluster.controllers.settings
    settings.webhook_warmup = 0.5
    install_and_wait(store, settings, runtimes=False, lean=True)
    with pytest.raises(ApiError) as err:
        install_runtimes(store, settings)
    assert 'failed calling webhook "clusterservingruntime.kserve-webhook-server.validator"' in err.value.message
    assert "connect: connection refused" in err.value.message
    wait_for(lambda: _try_install_runtimes(sim_cluster), 3, "the runtime webhook to answer")
    assert store.find(CLUSTER_RUNTIMES, None, "kserve-sklearnserver") is not None


def _try_install_runtimes(cluster: FakeCluster) -> bool:
    try:
        install_runtimes(cluster.store, cluster.controllers.settings)
    except ApiError:
        return False
    return True


def test_serverless_mode_rejected_without_knative(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, knative=False, lean=True)
    store.create(ISVCS, NS, sklearn_iris())
    event = wait_for(lambda: events_for(sim_cluster, NAME).get("ServerlessModeRejected"), 2, "ServerlessModeRejected")
    assert event["type"] == "Warning"
    assert event["message"] == \
        "It is not possible to use Knative deployment mode when Knative Services are not available"
    isvc = store.get(ISVCS, NS, NAME)
    assert isvc["status"]["deploymentMode"] == "Knative"
    not_ready(isvc)
    assert store.list(KSVCS, NS)[0] == []
    [manager] = store.list(PODS, "kserve", label_selector="control-plane=kserve-controller-manager")[0]
    log = sim_cluster.node.log("kserve", manager["metadata"]["name"], "manager")
    assert "the resolved deployment mode of InferenceService 'sklearn-iris' is Knative, but Knative Serving is not " \
           "available" in log


def test_pre_016_controller_refuses_standard_default(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    sim_cluster.controllers.settings.kserve_version = "0.15.2"
    install_and_wait(store, sim_cluster.controllers.settings, mode="Standard", knative=False, lean=True)
    store.create(ISVCS, NS, sklearn_iris())
    [manager] = store.list(PODS, "kserve", label_selector="control-plane=kserve-controller-manager")[0]
    wait_for(lambda: "invalid deployment mode. Supported modes are Serverless, RawDeployment and ModelMesh" in
             (sim_cluster.node.log("kserve", manager["metadata"]["name"], "manager") or ""), 2, "controller error")
    assert "status" not in store.get(ISVCS, NS, NAME)
    assert store.list(DEPLOYMENTS, NS)[0] == []
