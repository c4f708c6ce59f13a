"""KServe Standard/RawDeployment mode and version-dependent mode handling (facts §2.6, §4.2, §4.3, §5.2)."""

from __future__ import annotations

import re

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import install_and_wait, sklearn_iris, wait_for
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import DEPLOYMENTS, HPAS, INGRESSES, ISVCS, KSVCS, PODS, SERVICES

NS, NAME = "kserve-test", "sklearn-iris"
MODE = "serving.kserve.io/deploymentMode"


def ready(cluster: FakeCluster, name: str = NAME) -> dict:
    def check() -> dict | None:
        isvc = cluster.store.get(ISVCS, NS, name)
        ok = (find_condition(isvc, "Ready") or {}).get("status") == "True" and \
            isvc["status"].get("observedGeneration") == isvc["metadata"]["generation"]
        return isvc if ok else None
    return wait_for(check, 5, f"{name} Ready")


def lab(cluster: FakeCluster, version: str = "0.20.0", mode: str | None = None, knative: bool = True
        ) -> FakeCluster:
    cluster.controllers.settings.kserve_version = version
    install_and_wait(cluster.store, cluster.controllers.settings, mode=mode, knative=knative, lean=True)
    return cluster


def test_raw_mode_objects_and_status(sim_cluster: FakeCluster) -> None:
    store = lab(sim_cluster, mode="RawDeployment", knative=False).store
    created = store.create(ISVCS, NS, sklearn_iris())
    assert created["metadata"]["annotations"][MODE] == "Standard"  # webhook adds the default mode (0.16+ name)
    isvc = ready(sim_cluster)
    status = isvc["status"]
    assert status["url"] == "http://sklearn-iris-kserve-test.example.com"
    assert status["address"]["url"] == "http://sklearn-iris-predictor.kserve-test.svc.cluster.local"
    assert status["components"] == {"predictor": {"url": "http://sklearn-iris-predictor-kserve-test.example.com"}}
    assert status["deploymentMode"] == "Standard"
    assert find_condition(isvc, "PredictorReady")["reason"] == "NewReplicaSetAvailable"
    assert find_condition(isvc, "IngressReady")["status"] == "True"
    assert store.list(KSVCS, NS)[0] == []

    dep = store.get(DEPLOYMENTS, NS, "sklearn-iris-predictor")
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "isvc.sklearn-iris-predictor"}}
    assert dep["metadata"]["ownerReferences"][0]["name"] == NAME
    svc = store.get(SERVICES, NS, "sklearn-iris-predictor")
    assert svc["spec"]["selector"] == {"app": "isvc.sklearn-iris-predictor"}
    assert (svc["spec"]["ports"][0]["port"], svc["spec"]["ports"][0]["targetPort"]) == (80, 8080)
    hpa = store.get(HPAS, NS, "sklearn-iris-predictor")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 1)
    assert hpa["spec"]["metrics"][0]["resource"] == {"name": "cpu", "target": {"type": "Utilization",
                                                                               "averageUtilization": 80}}
    ingress = store.get(INGRESSES, NS, NAME)
    assert ingress["spec"]["ingressClassName"] == "istio"
    assert [r["host"] for r in ingress["spec"]["rules"]] == ["sklearn-iris-kserve-test.example.com",
                                                           "sklearn-iris-predictor-kserve-test.example.com"]
    [pod] = store.list(PODS, NS, label_selector="app=isvc.sklearn-iris-predictor")[0]
    assert re.fullmatch(r"sklearn-iris-predictor-[0-9a-f]{10}-[a-z0-9]{5}", pod["metadata"]["name"])
    labels = pod["metadata"]["labels"]
    assert (labels["serving.kserve.io/inferenceservice"], labels["component"], labels["isvc.generation"]) == \
        (NAME, "predictor", "1")
    assert [c["name"] for c in pod["spec"]["containers"]] == ["kserve-container"]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["storage-initializer"]


def test_raw_ingress_waits_for_predictor_ready(sim_cluster: FakeCluster) -> None:
    store = lab(sim_cluster, mode="RawDeployment", knative=False).store
    sim_cluster.controllers.settings.time_scale = 5.0
    store.create(ISVCS, NS, sklearn_iris())

    def early() -> dict | None:
        isvc = store.get(ISVCS, NS, NAME)
        cond = find_condition(isvc, "IngressReady") or {}
        return isvc if cond.get("status") == "False" else None
    isvc = wait_for(early, 3, "IngressReady False before the predictor is ready")
    assert find_condition(isvc, "IngressReady")["reason"] == "Predictor ingress not created"
    assert find_condition(isvc, "Ready")["status"] != "True"
    assert store.find(INGRESSES, NS, NAME) is None and "url" not in isvc["status"]
    ready(sim_cluster)
    assert store.find(INGRESSES, NS, NAME) is not None


@pytest.mark.parametrize(("version", "annotation", "stored", "status_mode"), [
    ("0.20.0", "RawDeployment", "Standard", "Standard"),      # 0.17+ webhook rewrites the legacy name
    ("0.17.0", "Serverless", "Knative", "Knative"),
    ("0.16.0", "RawDeployment", "RawDeployment", "Standard"),  # 0.16 does not rewrite
    ("0.15.2", "RawDeployment", "RawDeployment", "RawDeployment"),
])
def test_mode_names_per_version(sim_cluster: FakeCluster, version: str, annotation: str, stored: str,
                                status_mode: str) -> None:
    store = lab(sim_cluster, version=version).store
    created = store.create(ISVCS, NS, sklearn_iris(annotations={MODE: annotation}))
    assert created["metadata"]["annotations"][MODE] == stored
    assert ready(sim_cluster)["status"]["deploymentMode"] == status_mode


def test_old_versions_record_less_status(sim_cluster: FakeCluster) -> None:
    store = lab(sim_cluster, version="0.14.1").store
    store.create(ISVCS, NS, sklearn_iris())
    status = ready(sim_cluster)["status"]
    assert "deploymentMode" not in status and "clusterServingRuntimeName" not in status
    assert "Stopped" not in {c["type"] for c in status["conditions"]}
    assert status["url"] == "http://sklearn-iris.kserve-test.example.com"


@pytest.mark.parametrize(("version", "old", "new"), [("0.20.0", "Knative", "Standard"),
                                                     ("0.15.2", "Serverless", "RawDeployment")])
def test_mode_change_is_rejected(sim_cluster: FakeCluster, version: str, old: str, new: str) -> None:
    store = lab(sim_cluster, version=version).store
    store.create(ISVCS, NS, sklearn_iris())
    ready(sim_cluster)
    with pytest.raises(ApiError) as err:
        store.mutate(ISVCS, NS, NAME, lambda o: o["metadata"].setdefault("annotations", {}).update({MODE: new}))
    assert err.value.code == 403
    assert err.value.message == ('admission webhook "inferenceservice.kserve-webhook-server.validator" denied the '
                                 f"request: update rejected: deploymentMode cannot be changed from '{old}' to '{new}'")


def test_mode_change_allowed_before_0_15_1(sim_cluster: FakeCluster) -> None:
    store = lab(sim_cluster, version="0.14.1").store
    store.create(ISVCS, NS, sklearn_iris())
    ready(sim_cluster)
    store.mutate(ISVCS, NS, NAME, lambda o: o["metadata"].setdefault("annotations", {}).update(
        {MODE: "RawDeployment"}))


def test_v020_standard_canary_deployments(sim_cluster: FakeCluster) -> None:
    store = lab(sim_cluster, mode="Standard", knative=False).store
    body = sklearn_iris(minReplicas=2)
    # kserve/kserve@v0.20.0:config/crd/full/serving.kserve.io_inferenceservices.yaml:
    # canary.items.predictor.model.required [modelFormat, name] (name: the model's container name)
    body["spec"]["canary"] = [{"trafficPercent": 20, "predictor": {"name": "v2", "model": {
        "name": "kserve-container", "modelFormat": {"name": "sklearn"},
        "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model-2"}}}]
    store.create(ISVCS, NS, body)
    isvc = wait_for(lambda: (o := store.get(ISVCS, NS, NAME)) and
                    (find_condition(o, "CanaryPredictorReady") or {}).get("status") == "True" and o, 5,
                    "CanaryPredictorReady")
    assert isvc["status"]["canaryStatuses"] == [{"name": "v2", "ready": True, "trafficPercent": 20}]
    canary = store.get(DEPLOYMENTS, NS, "sklearn-iris-v2-predictor")
    assert canary["spec"]["replicas"] == 1
    assert canary["spec"]["template"]["metadata"]["annotations"][
        "internal.serving.kserve.io/storage-initializer-sourceuri"].endswith("model-2")
    store.mutate(ISVCS, NS, NAME, lambda o: o["spec"].pop("canary"))
    wait_for(lambda: store.find(DEPLOYMENTS, NS, "sklearn-iris-v2-predictor") is None, 3, "canary cleanup")


def test_canary_list_rejected_outside_standard_and_pruned_before_020(sim_cluster: FakeCluster) -> None:
    store = lab(sim_cluster).store
    body = sklearn_iris()
    body["spec"]["canary"] = [{"trafficPercent": 20, "predictor": {"name": "v2"}}]
    with pytest.raises(ApiError) as err:
        store.create(ISVCS, NS, body)
    assert err.value.message.endswith("canary is only supported in Standard deployment mode")
    sim_cluster.controllers.settings.kserve_version = "0.19.0"
    assert "canary" not in store.create(ISVCS, NS, body)["spec"]
