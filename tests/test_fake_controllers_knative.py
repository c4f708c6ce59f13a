"""KServe Knative (Serverless) mode in the simulated cluster: child objects and status (facts §4.2, §4.3, §5.1)."""

from __future__ import annotations

import re

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import install_and_wait, sklearn_iris, wait_for
from tests.fakecluster.resources import (
    CONFIGURATIONS,
    DEPLOYMENTS,
    EVENTS,
    ISVCS,
    KSVCS,
    PODAUTOSCALERS,
    PODS,
    REVISIONS,
    ROUTES,
    SERVICES,
    VIRTUAL_SERVICES,
)

NS = "kserve-test"


def ready_isvc(cluster: FakeCluster, name: str = "sklearn-iris", timeout: float = 5.0) -> dict:
    def check() -> dict | None:
        isvc = cluster.store.find(ISVCS, NS, name)
        if not isvc:
            return None
        cond = find_condition(isvc, "Ready")
        status = isvc.get("status") or {}
        done = cond and cond["status"] == "True" and status.get("observedGeneration") == isvc["metadata"]["generation"]
        return isvc if done else None
    return wait_for(check, timeout, f"InferenceService {name} Ready")


@pytest.fixture
def lab(sim_cluster: FakeCluster) -> FakeCluster:
    install_and_wait(sim_cluster.store, sim_cluster.controllers.settings, lean=True)
    return sim_cluster


def test_isvc_becomes_ready_with_the_documented_status(sim_cluster: FakeCluster) -> None:
    lab = sim_cluster
    install_and_wait(lab.store, lab.controllers.settings)  # the full stack, Istio gateway included
    lab.store.create(ISVCS, NS, sklearn_iris())
    isvc = ready_isvc(lab)
    status = isvc["status"]
    assert status["url"] == "http://sklearn-iris.kserve-test.example.com"
    assert status["address"]["url"] == "http://sklearn-iris.kserve-test.svc.cluster.local"
    assert status["deploymentMode"] == "Knative"
    assert status["clusterServingRuntimeName"] == "kserve-sklearnserver"
    assert status["observedGeneration"] == 1
    for ctype in ("PredictorReady", "PredictorRouteReady", "PredictorConfigurationReady", "RoutesReady",
                  "LatestDeploymentReady", "IngressReady", "Ready"):
        cond = find_condition(isvc, ctype)
        assert cond["status"] == "True" and cond["lastTransitionTime"], ctype
    assert find_condition(isvc, "Stopped")["status"] == "False"
    predictor = status["components"]["predictor"]
    rev = "sklearn-iris-predictor-00001"
    assert (predictor["latestCreatedRevision"], predictor["latestReadyRevision"],
            predictor["latestRolledoutRevision"]) == (rev, rev, rev)
    assert "previousRolledoutRevision" not in predictor
    assert predictor["traffic"] == [{"revisionName": rev, "latestRevision": True, "percent": 100}]
    assert predictor["url"] == "http://sklearn-iris-predictor.kserve-test.example.com"
    assert predictor["address"]["url"] == "http://sklearn-iris-predictor.kserve-test.svc.cluster.local"
    model = wait_for(lambda: (m := lab.store.get(ISVCS, NS, "sklearn-iris")["status"]["modelStatus"])
                     and m["transitionStatus"] == "UpToDate" and m, 2, "model Loaded")
    assert model["states"] == {"activeModelState": "Loaded", "targetModelState": "Loaded"}
    assert model["copies"] == {"failedCopies": 0, "totalCopies": 1}
    reasons = {e["reason"]: e for e in lab.store.list(EVENTS, NS)[0] if e["involvedObject"]["kind"] ==
               "InferenceService"}
    assert reasons["InferenceServiceReady"]["message"] == "InferenceService [sklearn-iris] is Ready"


def test_knative_children_names_labels_and_annotations(lab: FakeCluster) -> None:
    store = lab.store
    store.create(ISVCS, NS, sklearn_iris(minReplicas=1, maxReplicas=6, scaleMetric="concurrency", scaleTarget=5))
    ready_isvc(lab)
    ksvc = store.get(KSVCS, NS, "sklearn-iris-predictor")
    assert ksvc["metadata"]["ownerReferences"][0]["kind"] == "InferenceService"
    ann = ksvc["spec"]["template"]["metadata"]["annotations"]
    assert ann["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    assert (ann["autoscaling.knative.dev/metric"], ann["autoscaling.knative.dev/target"]) == ("concurrency", "5")
    assert (ann["autoscaling.knative.dev/min-scale"], ann["autoscaling.knative.dev/max-scale"]) == ("1", "6")
    assert ann["internal.serving.kserve.io/storage-initializer-sourceuri"] == \
        "gs://kfserving-examples/models/sklearn/1.0/model"
    assert ksvc["spec"]["traffic"] == [{"latestRevision": True, "percent": 100}]
    for rt in (CONFIGURATIONS, ROUTES):
        assert store.get(rt, NS, "sklearn-iris-predictor")["metadata"]["ownerReferences"][0]["kind"] == "Service"
    rev = store.get(REVISIONS, NS, "sklearn-iris-predictor-00001")
    assert find_condition(rev, "Ready")["status"] == "True"
    assert store.find(PODAUTOSCALERS, NS, "sklearn-iris-predictor-00001") is not None
    assert store.find(SERVICES, NS, "sklearn-iris-predictor-00001-private") is not None
    dep = store.get(DEPLOYMENTS, NS, "sklearn-iris-predictor-00001-deployment")
    assert dep["metadata"]["ownerReferences"][0]["kind"] == "Revision"

    [pod] = store.list(PODS, NS, label_selector="serving.knative.dev/revision=sklearn-iris-predictor-00001")[0]
    assert re.fullmatch(r"sklearn-iris-predictor-00001-deployment-[0-9a-f]{10}-[a-z0-9]{5}", pod["metadata"]["name"])
    labels = pod["metadata"]["labels"]
    assert labels["serving.kserve.io/inferenceservice"] == "sklearn-iris"
    assert labels["component"] == "predictor"
    assert labels["serving.knative.dev/service"] == "sklearn-iris-predictor"
    assert labels["serving.knative.dev/configuration"] == "sklearn-iris-predictor"
    assert labels["app"] == "sklearn-iris-predictor-00001"
    assert labels["isvc.generation"] == "1"
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    assert list(containers) == ["kserve-container", "queue-proxy"]
    assert containers["kserve-container"]["ports"][0]["containerPort"] == 8080
    assert "--model_name=sklearn-iris" in containers["kserve-container"]["args"]
    queue_ports = {p["containerPort"] for p in containers["queue-proxy"]["ports"]}
    assert {8012, 9090, 9091, 8022} <= queue_ports
    [init] = pod["spec"]["initContainers"]
    assert init["name"] == "storage-initializer"
    assert init["args"] == ["gs://kfserving-examples/models/sklearn/1.0/model", "/mnt/models"]
    log = lab.node.log(NS, pod["metadata"]["name"], "storage-initializer")
    assert "Successfully copied gs://kfserving-examples/models/sklearn/1.0/model to /mnt/models" in log
    assert "Registering model: sklearn-iris" in lab.node.log(NS, pod["metadata"]["name"], "kserve-container")
    vs = store.get(VIRTUAL_SERVICES, NS, "sklearn-iris")
    assert vs["spec"]["hosts"] == ["sklearn-iris.kserve-test.example.com", "sklearn-iris.kserve-test.svc.cluster.local"]
    assert store.get(SERVICES, NS, "sklearn-iris")["spec"]["type"] == "ExternalName"


def test_unpatched_domain_gives_svc_cluster_local_urls(sim_cluster: FakeCluster) -> None:
    install_and_wait(sim_cluster.store, sim_cluster.controllers.settings, domain=None, lean=True)
    sim_cluster.store.create(ISVCS, NS, sklearn_iris())
    isvc = ready_isvc(sim_cluster)
    assert isvc["status"]["url"] == "http://sklearn-iris.kserve-test.svc.cluster.local"
    assert isvc["status"]["components"]["predictor"]["url"] == \
        "http://sklearn-iris-predictor.kserve-test.svc.cluster.local"


def test_default_runtime_resources_and_explicit_runtime(lab: FakeCluster) -> None:
    store = lab.store
    store.create(ISVCS, NS, sklearn_iris(cpu=None))
    ready_isvc(lab)
    [pod] = store.list(PODS, NS, label_selector="serving.kserve.io/inferenceservice=sklearn-iris")[0]
    resources = pod["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    v2 = sklearn_iris(name="iris-v2")
    v2["spec"]["predictor"]["model"]["protocolVersion"] = "v2"
    store.create(ISVCS, NS, v2)
    assert ready_isvc(lab, "iris-v2")["status"]["clusterServingRuntimeName"] == "kserve-mlserver"
    pinned = sklearn_iris(name="iris-pinned")
    pinned["spec"]["predictor"]["model"].update(protocolVersion="v2", runtime="kserve-sklearnserver")
    store.create(ISVCS, NS, pinned)
    assert ready_isvc(lab, "iris-pinned")["status"]["clusterServingRuntimeName"] == "kserve-sklearnserver"


def test_framework_shorthand_is_converted_by_the_webhook(lab: FakeCluster) -> None:
    body = sklearn_iris()
    body["spec"]["predictor"] = {"sklearn": {"storageUri": "gs://kfserving-examples/models/sklearn/1.0/model"}}
    created = lab.store.create(ISVCS, NS, body)
    assert created["spec"]["predictor"] == {"model": {"modelFormat": {"name": "sklearn"},
                                                      "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model"}}
    ready_isvc(lab)


def test_delete_removes_finalizer_and_cascades(lab: FakeCluster) -> None:
    store = lab.store
    store.create(ISVCS, NS, sklearn_iris())
    isvc = ready_isvc(lab)
    assert isvc["metadata"]["finalizers"] == ["inferenceservice.finalizers"]
    store.delete(ISVCS, NS, "sklearn-iris")
    wait_for(lambda: store.find(ISVCS, NS, "sklearn-iris") is None, 2, "the InferenceService to go away")
    for rt in (KSVCS, REVISIONS, DEPLOYMENTS, PODS, VIRTUAL_SERVICES):
        assert store.list(rt, NS)[0] == [], rt.plural
