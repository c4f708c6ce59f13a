"""The simulated controllers seen over real HTTP: the kubernetes client and kubectl against the fake cluster."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.lab import install_and_wait, sklearn_iris

GROUP, VERSION, PLURAL = "serving.kserve.io", "v1beta1", "inferenceservices"
NS, NAME = "kserve-test", "sklearn-iris"


@pytest.fixture
def api(fake_cluster: FakeCluster) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(fake_cluster.kubeconfig_path),  # type: ignore[attr-defined]
                            client_configuration=configuration)
    with client.ApiClient(configuration) as api_client:
        yield api_client


def _wait_ready(custom: client.CustomObjectsApi, timeout: int = 10) -> dict:
    """Watch until Ready=True at the current generation (what kslab's waits do)."""
    stream = watch.Watch()
    for event in stream.stream(custom.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL,
                               field_selector=f"metadata.name={NAME}", timeout_seconds=timeout):
        obj = event["object"]
        status = obj.get("status") or {}
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
        if ready and status.get("observedGeneration") == obj["metadata"]["generation"]:
            stream.stop()
            return obj
    raise AssertionError(f"{NAME} not Ready within {timeout}s")


def test_isvc_lifecycle_through_the_kubernetes_client(fake_cluster: FakeCluster, api: client.ApiClient) -> None:
    install_and_wait(fake_cluster.store, fake_cluster.controllers.settings)
    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, sklearn_iris())
    isvc = _wait_ready(custom)
    assert isvc["status"]["url"] == "http://sklearn-iris.kserve-test.example.com"

    pods = core.list_namespaced_pod(NS, label_selector="serving.kserve.io/inferenceservice=sklearn-iris").items
    assert [p.status.phase for p in pods] == ["Running"]
    assert pods[0].metadata.labels["serving.knative.dev/revision"] == "sklearn-iris-predictor-00001"
    log = core.read_namespaced_pod_log(pods[0].metadata.name, NS, container="storage-initializer")
    assert "Successfully copied gs://kfserving-examples/models/sklearn/1.0/model" in log

    custom.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, NAME, {"spec": {"predictor": {
        "canaryTrafficPercent": 10, "labels": {"kslab.dev/revision": "2"}}}})
    isvc = _wait_ready(custom)
    traffic = {t["revisionName"]: t["percent"] for t in isvc["status"]["components"]["predictor"]["traffic"]}
    assert traffic == {"sklearn-iris-predictor-00002": 10, "sklearn-iris-predictor-00001": 90}

    fake_cluster.controllers.settings.webhook_ready = False
    with pytest.raises(client.ApiException) as err:
        custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, sklearn_iris(name="other"))
    body = json.loads(err.value.body)
    assert (err.value.status, body["reason"]) == (500, "InternalError")
    assert 'failed calling webhook "inferenceservice.kserve-webhook-server.defaulter"' in body["message"]


@pytest.mark.kubectl
def test_kubectl_wait_and_logs(fake_cluster: FakeCluster, kubectl, tmp_path) -> None:
    install_and_wait(fake_cluster.store, fake_cluster.controllers.settings)
    manifest = tmp_path / "isvc.json"
    manifest.write_text(json.dumps(sklearn_iris()))
    kubectl("apply", "--server-side", "--validate=false", "-f", str(manifest))
    out = kubectl("wait", "--for=condition=Ready", f"isvc/{NAME}", "-n", NS, "--timeout=20s").stdout
    assert "condition met" in out
    url = kubectl("get", "isvc", NAME, "-n", NS, "-o", "jsonpath={.status.url}").stdout
    assert url == "http://sklearn-iris.kserve-test.example.com"
    pods = kubectl("get", "pods", "-n", NS, "-l", "serving.kserve.io/inferenceservice=sklearn-iris",
                   "-o", "jsonpath={.items[0].metadata.name}").stdout
    logs = kubectl("logs", "-n", NS, pods, "-c", "kserve-container").stdout
    assert "Registering model: sklearn-iris" in logs
