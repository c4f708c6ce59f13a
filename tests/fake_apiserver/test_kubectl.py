"""The real kubectl 1.37 binary against the fake API server: the commands kslab runs must work."""

from __future__ import annotations

import json
import time

import pytest

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.resources import CONFIGMAPS, DEPLOYMENTS

from .helpers import ISVC, ISVC_YAML, isvc_body, later, mark_ready, namespace, seed_isvc, seed_pod

pytestmark = pytest.mark.kubectl


def _log(cluster: FakeCluster, method: str, contains: str = "") -> list:
    return cluster.server.requests(method, contains)


def test_get_pods_all_namespaces_lists_seeded_pod(fake_cluster, kubectl):
    seed_pod(fake_cluster, "sklearn-iris-predictor-abc", ns="kserve-test")
    out = kubectl("get", "pods", "-A").stdout
    assert out.split("\n")[0].split()[:2] == ["NAMESPACE", "NAME"]
    row = next(line.split() for line in out.splitlines() if "sklearn-iris-predictor-abc" in line)
    assert row[:4] == ["kserve-test", "sklearn-iris-predictor-abc", "0/1", "Running"]
    (listing,) = _log(fake_cluster, "GET", "/api/v1/pods?")
    assert listing.kubectl_command == "kubectl get" and "as=Table" in listing.accept


def test_server_side_apply_creates_then_updates(fake_cluster, kubectl):
    namespace(fake_cluster)
    out = kubectl("apply", "--server-side", "-f", "-", input=ISVC_YAML).stdout
    assert out.strip() == "inferenceservice.serving.kserve.io/sklearn-iris serverside-applied"
    obj = fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")
    assert obj["spec"]["predictor"]["model"]["modelFormat"]["name"] == "sklearn"
    assert obj["metadata"]["generation"] == 1
    applied = _log(fake_cluster, "PATCH", "/inferenceservices/sklearn-iris")
    assert applied[-1].content_type == "application/apply-patch+yaml"
    assert "fieldManager=kubectl" in applied[-1].path and "force=false" in applied[-1].path
    assert applied[-1].status == 201
    # kubectl validated against our OpenAPI v3 (fieldValidation=Strict) instead of failing to download it
    assert "fieldValidation=Strict" in applied[-1].path
    assert _log(fake_cluster, "GET", "/openapi/v3/apis/serving.kserve.io/v1beta1")

    updated = ISVC_YAML.replace("sklearn/1.0/model", "sklearn/2.0/model")
    out = kubectl("apply", "--server-side", "-f", "-", input=updated).stdout
    assert "serverside-applied" in out
    assert _log(fake_cluster, "PATCH", "/inferenceservices/sklearn-iris")[-1].status == 200
    obj = fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")
    assert obj["spec"]["predictor"]["model"]["storageUri"].endswith("sklearn/2.0/model")
    assert obj["metadata"]["generation"] == 2


def test_wait_for_ready_condition(fake_cluster, kubectl):
    seed_isvc(fake_cluster)
    later(1.0, lambda: mark_ready(fake_cluster))
    start = time.monotonic()
    out = kubectl("wait", "--for=condition=Ready", "isvc/sklearn-iris", "-n", "kserve-test", "--timeout=30s").stdout
    elapsed = time.monotonic() - start
    assert out.strip() == "inferenceservice.serving.kserve.io/sklearn-iris condition met"
    assert 0.9 <= elapsed < 10
    (watch,) = _log(fake_cluster, "GET", "watch=true")
    assert "sendInitialEvents=true" in watch.path and "fieldSelector=metadata.name%3Dsklearn-iris" in watch.path


def test_wait_ignores_ready_from_an_older_generation(fake_cluster, kubectl):
    seed_isvc(fake_cluster)
    mark_ready(fake_cluster)
    fake_cluster.store.patch(ISVC, "kserve-test", "sklearn-iris", "application/merge-patch+json",
                             {"spec": {"predictor": {"minReplicas": 2}}})
    proc = kubectl("wait", "--for=condition=Ready", "isvc/sklearn-iris", "-n", "kserve-test", "--timeout=1s",
                   check=False)
    assert proc.returncode == 1
    assert "timed out waiting for the condition" in proc.stderr


def test_merge_patch_bumps_generation(fake_cluster, kubectl):
    seed_isvc(fake_cluster)
    patch = '{"spec":{"predictor":{"canaryTrafficPercent":10}}}'
    out = kubectl("patch", "isvc", "sklearn-iris", "-n", "kserve-test", "--type", "merge", "-p", patch).stdout
    assert out.strip() == "inferenceservice.serving.kserve.io/sklearn-iris patched"
    obj = fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")
    assert obj["spec"]["predictor"]["canaryTrafficPercent"] == 10
    assert obj["metadata"]["generation"] == 2
    assert _log(fake_cluster, "PATCH")[-1].content_type == "application/merge-patch+json"
    again = kubectl("patch", "isvc", "sklearn-iris", "-n", "kserve-test", "--type", "merge", "-p", patch).stdout
    assert again.strip() == "inferenceservice.serving.kserve.io/sklearn-iris patched (no change)"


def test_json_patch(fake_cluster, kubectl):
    seed_isvc(fake_cluster)
    ops = '[{"op":"add","path":"/spec/predictor/minReplicas","value":2}]'
    kubectl("patch", "isvc", "sklearn-iris", "-n", "kserve-test", "--type", "json", "-p", ops)
    assert fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")["spec"]["predictor"]["minReplicas"] == 2


def test_strategic_patch_on_crd_is_rejected(fake_cluster, kubectl):
    seed_isvc(fake_cluster)
    proc = kubectl("patch", "isvc", "sklearn-iris", "-n", "kserve-test", "-p",
                   '{"spec":{"predictor":{"canaryTrafficPercent":10}}}', check=False)
    assert proc.returncode == 1
    assert ("application/strategic-merge-patch+json is not supported by serving.kserve.io/v1beta1, "
            "Kind=InferenceService") in proc.stderr
    assert "canaryTrafficPercent" not in json.dumps(fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris"))


def test_get_isvc_json(fake_cluster, kubectl):
    created = seed_isvc(fake_cluster)
    obj = json.loads(kubectl("get", "isvc", "sklearn-iris", "-n", "kserve-test", "-o", "json").stdout)
    assert obj["apiVersion"] == "serving.kserve.io/v1beta1" and obj["kind"] == "InferenceService"
    assert obj["metadata"]["uid"] == created["metadata"]["uid"]
    assert obj["metadata"]["namespace"] == "kserve-test"
    assert obj["spec"]["predictor"]["model"]["storageUri"] == "gs://kfserving-examples/models/sklearn/1.0/model"


def test_get_isvc_prints_kserve_columns(fake_cluster, kubectl):
    seed_isvc(fake_cluster)
    mark_ready(fake_cluster)
    lines = kubectl("get", "isvc", "-n", "kserve-test").stdout.splitlines()
    assert lines[0].split() == ["NAME", "URL", "READY", "PREV", "LATEST", "PREVROLLEDOUTREVISION",
                                "LATESTREADYREVISION", "AGE"]
    assert lines[1].split()[:3] == ["sklearn-iris", "http://sklearn-iris.kserve-test.example.com", "True"]


def test_delete_isvc(fake_cluster, kubectl):
    seed_isvc(fake_cluster)
    out = kubectl("delete", "isvc", "sklearn-iris", "-n", "kserve-test").stdout
    assert out.strip() == 'inferenceservice.serving.kserve.io "sklearn-iris" deleted from kserve-test namespace'
    assert fake_cluster.store.find(ISVC, "kserve-test", "sklearn-iris") is None


def test_delete_waits_for_finalizers(fake_cluster, kubectl):
    namespace(fake_cluster)
    body = {"metadata": {"name": "sklearn-iris", "finalizers": ["inferenceservice.finalizers"]},
            "spec": isvc_body()["spec"]}  # the CRD requires spec.predictor
    fake_cluster.store.create(ISVC, "kserve-test", body)

    def finalize() -> None:
        fake_cluster.store.mutate(ISVC, "kserve-test", "sklearn-iris",
                                  lambda o: o["metadata"].pop("finalizers"))
    later(1.0, finalize)
    start = time.monotonic()
    out = kubectl("delete", "isvc", "sklearn-iris", "-n", "kserve-test", "--timeout=20s").stdout
    assert "deleted" in out
    assert time.monotonic() - start >= 0.9
    assert fake_cluster.store.find(ISVC, "kserve-test", "sklearn-iris") is None


def test_client_side_apply_create_update_unchanged(fake_cluster, kubectl):
    namespace(fake_cluster)
    assert kubectl("apply", "-f", "-", input=ISVC_YAML).stdout.strip() == \
        "inferenceservice.serving.kserve.io/sklearn-iris created"
    obj = fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]
    changed = ISVC_YAML.replace("name: sklearn\n", "name: xgboost\n")
    assert kubectl("apply", "-f", "-", input=changed).stdout.strip() == \
        "inferenceservice.serving.kserve.io/sklearn-iris configured"
    assert _log(fake_cluster, "PATCH")[-1].content_type == "application/merge-patch+json"  # a CRD: no strategic
    obj = fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")
    assert obj["spec"]["predictor"]["model"]["modelFormat"]["name"] == "xgboost"
    assert kubectl("apply", "-f", "-", input=changed).stdout.strip() == \
        "inferenceservice.serving.kserve.io/sklearn-iris unchanged"


def test_client_side_apply_of_builtin_uses_strategic_merge(fake_cluster, kubectl):
    namespace(fake_cluster)
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inferenceservice-config\n"
                "  namespace: kserve-test\ndata:\n  deploy: '{\"defaultDeploymentMode\": \"Serverless\"}'\n")
    kubectl("apply", "-f", "-", input=manifest)
    out = kubectl("apply", "-f", "-", input=manifest.replace("Serverless", "Standard")).stdout
    assert "configmap/inferenceservice-config configured" in out
    assert _log(fake_cluster, "PATCH")[-1].content_type == "application/strategic-merge-patch+json"
    data = fake_cluster.store.get(CONFIGMAPS, "kserve-test", "inferenceservice-config")["data"]
    assert json.loads(data["deploy"]) == {"defaultDeploymentMode": "Standard"}


def test_logs(fake_cluster, kubectl):
    seed_pod(fake_cluster, "predictor-0", containers=("kserve-container", "queue-proxy"))
    fake_cluster.node.append_log("kserve-test", "predictor-0", "kserve-container", "starting\nmodel loaded\n")
    fake_cluster.node.append_log("kserve-test", "predictor-0", "queue-proxy", "queue ready\n")
    assert kubectl("logs", "predictor-0", "-n", "kserve-test").stdout == "starting\nmodel loaded\n"
    assert kubectl("logs", "predictor-0", "-n", "kserve-test", "-c", "queue-proxy").stdout == "queue ready\n"
    assert kubectl("logs", "pod/predictor-0", "-n", "kserve-test", "--tail=1").stdout == "model loaded\n"


def test_logs_of_container_not_started(fake_cluster, kubectl):
    seed_pod(fake_cluster, "predictor-0")
    proc = kubectl("logs", "predictor-0", "-n", "kserve-test", check=False)
    assert proc.returncode == 1
    assert ('Error from server (BadRequest): container "kserve-container" in pod "predictor-0" is waiting to '
            "start: PodInitializing") in proc.stderr


def test_get_raw_through_pod_proxy(fake_cluster, kubectl, backend):
    seed_pod(fake_cluster, "predictor-0")
    fake_cluster.node.register_proxy("kserve-test", "predictor-0", 8080, backend.url)
    out = kubectl("get", "--raw", "/api/v1/namespaces/kserve-test/pods/predictor-0:8080/proxy/v1/models/sklearn-iris")
    assert json.loads(out.stdout) == {"method": "GET", "path": "/v1/models/sklearn-iris", "body": ""}
    proc = kubectl("get", "--raw", "/api/v1/namespaces/kserve-test/pods/predictor-0:9090/proxy/metrics", check=False)
    assert proc.returncode == 1
    assert "error trying to reach service: dial tcp 10.244.0.12:9090: connect: connection refused" in proc.stderr


def test_get_missing_object_is_not_found(fake_cluster, kubectl):
    namespace(fake_cluster)
    proc = kubectl("get", "isvc", "nope", "-n", "kserve-test", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == 'Error from server (NotFound): inferenceservices.serving.kserve.io "nope" not found'
    proc = kubectl("get", "isvc", "nope", "-n", "ghost", check=False)
    assert proc.returncode == 1
    assert 'namespaces "ghost" not found' in proc.stderr


def test_port_forward_fails_cleanly(fake_cluster, kubectl):
    seed_pod(fake_cluster, "predictor-0")
    proc = kubectl("port-forward", "pod/predictor-0", "-n", "kserve-test", "18080:8080", check=False, timeout=20)
    assert proc.returncode == 1
    assert "unable to upgrade connection: Upgrade request required" in proc.stderr


def test_scale_deployment(fake_cluster, kubectl):
    namespace(fake_cluster)
    fake_cluster.store.create(DEPLOYMENTS, "kserve-test", {
        "metadata": {"name": "sklearn-iris-predictor"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "isvc.sklearn-iris-predictor"}},
                 "template": {"metadata": {"labels": {"app": "isvc.sklearn-iris-predictor"}},
                              "spec": {"containers": [{"name": "kserve-container", "image": "x"}]}}}})
    out = kubectl("scale", "deployment/sklearn-iris-predictor", "-n", "kserve-test", "--replicas=3").stdout
    assert out.strip() == "deployment.apps/sklearn-iris-predictor scaled"
    assert fake_cluster.store.get(DEPLOYMENTS, "kserve-test", "sklearn-iris-predictor")["spec"]["replicas"] == 3
    assert _log(fake_cluster, "PATCH", "/deployments/sklearn-iris-predictor/scale")


def test_api_resources_and_get_all(fake_cluster, kubectl):
    out = kubectl("api-resources", "--api-group=serving.kserve.io").stdout
    row = next(line.split() for line in out.splitlines() if line.startswith("inferenceservices"))
    assert row == ["inferenceservices", "isvc", "serving.kserve.io/v1beta1", "true", "InferenceService"]
    seed_isvc(fake_cluster)
    seed_pod(fake_cluster, "predictor-0")
    out = kubectl("get", "all", "-n", "kserve-test").stdout
    assert "pod/predictor-0" in out and "inferenceservice.serving.kserve.io/sklearn-iris" in out


def test_server_side_apply_over_client_side_apply_keeps_spec(fake_cluster, kubectl):
    namespace(fake_cluster)
    kubectl("apply", "-f", "-", input=ISVC_YAML)
    out = kubectl("apply", "--server-side", "-f", "-", input=ISVC_YAML.replace("name: sklearn\n", "name: xgboost\n"))
    assert "serverside-applied" in out.stdout
    # kubectl follows up with a second apply (fieldManager=kubectl-last-applied) carrying only the annotation
    assert _log(fake_cluster, "PATCH", "fieldManager=kubectl-last-applied")
    spec = fake_cluster.store.get(ISVC, "kserve-test", "sklearn-iris")["spec"]
    assert spec["predictor"]["model"] == {"modelFormat": {"name": "xgboost"},
                                          "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model"}


def test_typed_generators_post_protobuf_which_the_fake_rejects(fake_cluster, kubectl):
    proc = kubectl("create", "namespace", "kserve-test", check=False)
    assert proc.returncode == 1
    assert "Error from server (UnsupportedMediaType)" in proc.stderr
    assert _log(fake_cluster, "POST")[-1].content_type == "application/vnd.kubernetes.protobuf"
    # the manifest route works
    kubectl("create", "-f", "-", input="apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kserve-test\n")
    assert kubectl("get", "ns", "kserve-test", "-o", "name").stdout.strip() == "namespace/kserve-test"
