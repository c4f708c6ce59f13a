"""The InferenceService kslab renders for each variant, checked against the KServe v1beta1 shape (facts §4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kslab.config.model import Settings
from kslab.deploy.request import DeployRequest, S3Options
from kslab.deploy.service import render
from kslab.errors import UsageError
from kslab.stack.versions import load_matrix

SAMPLE_URI = "gs://kfserving-examples/models/sklearn/1.0/model"
MODE = "serving.kserve.io/deploymentMode"
# Fields of a v1beta1 PredictorSpec.model the template may use (ModelSpec embeds a container; facts §4.1).
MODEL_FIELDS = {"modelFormat", "runtime", "runtimeVersion", "protocolVersion", "storageUri", "resources", "env",
                "args", "ports"}


def rendered(request: DeployRequest, version: str = "0.20", namespace: str = "kserve-test") -> dict:
    isvc, _ = render(Settings(kserve_version=version, namespace=namespace), request.validate())
    return isvc


@pytest.mark.parametrize(("version", "mode", "annotation"), [
    ("0.15", "knative", "Serverless"), ("0.15", "standard", "RawDeployment"),
    ("0.16", "knative", "Knative"), ("0.16", "standard", "Standard"),
    ("0.20", "knative", "Knative"), ("0.20", "standard", "Standard"),
])
def test_every_mode_and_release_renders_the_v1beta1_shape(version, mode, annotation):
    isvc = rendered(DeployRequest("sklearn-iris", mode), version, namespace="lab-a")
    assert (isvc["apiVersion"], isvc["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    assert isvc["metadata"]["name"] == "sklearn-iris" and isvc["metadata"]["namespace"] == "lab-a"
    assert isvc["metadata"]["annotations"] == {MODE: annotation}
    assert isvc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"
    assert list(isvc["spec"]) == ["predictor"] and list(isvc["spec"]["predictor"]) == ["model"]
    model = isvc["spec"]["predictor"]["model"]
    assert set(model) <= MODEL_FIELDS
    assert model["modelFormat"] == {"name": "sklearn"}
    assert model["runtime"] == "kserve-sklearnserver"
    assert model["protocolVersion"] == "v1"
    assert model["storageUri"] == SAMPLE_URI
    # sized for kind, overriding the runtime's 1 CPU / 2Gi default
    assert model["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"},
                                  "limits": {"cpu": "1", "memory": "512Mi"}}


def test_v2_keeps_the_sklearn_server_unless_told_otherwise():
    model = rendered(DeployRequest("sklearn-iris", "knative", protocol="v2"))["spec"]["predictor"]["model"]
    assert (model["runtime"], model["protocolVersion"]) == ("kserve-sklearnserver", "v2")
    model = rendered(DeployRequest("sklearn-iris", "knative", protocol="v2", runtime="kserve-mlserver")
                     )["spec"]["predictor"]["model"]
    assert (model["runtime"], model["protocolVersion"]) == ("kserve-mlserver", "v2")


def test_runtime_auto_leaves_the_choice_to_kserve():
    model = rendered(DeployRequest("sklearn-iris", "knative", protocol="v2", runtime="auto"))["spec"]["predictor"][
        "model"]
    assert "runtime" not in model and model["protocolVersion"] == "v2"


def test_storage_variants(tmp_path: Path):
    isvc = rendered(DeployRequest("sklearn-iris", "knative", storage_uri="https://example.org/iris/model"))
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "https://example.org/iris/model"
    (tmp_path / "model.joblib").write_bytes(b"\x80")
    isvc = rendered(DeployRequest("sklearn-iris", "standard", storage="pvc", model_dir=tmp_path))
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "pvc://kslab-models/sklearn-iris"
    assert "serviceAccountName" not in isvc["spec"]["predictor"]
    isvc = rendered(DeployRequest("sklearn-iris", "knative", storage="s3", storage_uri="s3://models/iris",
                                  s3=S3Options("minio-service.kslab:9000")))
    assert isvc["spec"]["predictor"]["serviceAccountName"] == "kslab-s3-sklearn-iris"
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "s3://models/iris"


def test_storage_manifests_render(tmp_path: Path):
    from kslab.deploy.storage import copy_pod_manifests, plan_storage, s3_objects
    from kslab.models.catalog import catalog_model

    pvc, pod = copy_pod_manifests("sklearn-iris", "kserve-test")
    assert pvc["kind"] == "PersistentVolumeClaim" and pvc["metadata"]["name"] == "kslab-models"
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pod["spec"]["volumes"] == [{"name": "models", "persistentVolumeClaim": {"claimName": "kslab-models"}}]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [{"name": "models", "mountPath": "/pvc"}]
    assert "mkdir -p '/pvc/sklearn-iris'" in pod["spec"]["containers"][0]["command"][-1]
    request = DeployRequest("sklearn-iris", "knative", storage="s3", storage_uri="s3://models/iris",
                            s3=S3Options("minio.lab:9000"))
    plan = plan_storage(request, catalog_model("sklearn-iris"))
    secret, account = s3_objects(plan, S3Options("minio.lab:9000"), {"AWS_ACCESS_KEY_ID": "a" * 8,
                                                                      "AWS_SECRET_ACCESS_KEY": "b" * 8},
                                 "sklearn-iris", "kserve-test")
    assert secret["metadata"]["annotations"] == {
        "serving.kserve.io/s3-endpoint": "minio.lab:9000", "serving.kserve.io/s3-usehttps": "0",
        "serving.kserve.io/s3-verifyssl": "0", "serving.kserve.io/s3-region": "us-east-1"}
    assert secret["stringData"] == {"AWS_ACCESS_KEY_ID": "a" * 8, "AWS_SECRET_ACCESS_KEY": "b" * 8}
    assert account["kind"] == "ServiceAccount" and account["secrets"] == [{"name": plan.secret}]


@pytest.mark.parametrize(("request_args", "message"), [
    ({"mode": "serverless"}, "--mode 'serverless' is not one of knative, standard"),
    ({"protocol": "v3"}, "--protocol 'v3' is not one of v1, v2"),
    ({"storage": "pvc"}, "--storage pvc needs --model-dir DIR"),
    ({"storage": "s3", "storage_uri": "gs://a/b"}, "--storage s3 needs --storage-uri s3://BUCKET/PATH"),
    ({"storage": "s3", "storage_uri": "s3://a/b"}, "--storage s3 needs --s3-endpoint HOST:PORT"),
    ({"storage_uri": 'gs://a/"b'}, "is not a URI like gs://bucket/path"),
    ({"runtime": "Bad Name"}, "--runtime 'Bad Name' is not a runtime name"),
])
def test_bad_flag_combinations_are_usage_errors(request_args, message):
    args = {"mode": "knative", **request_args}
    with pytest.raises(UsageError) as err:
        DeployRequest("sklearn-iris", **args).validate()
    assert message in err.value.message


def test_pvc_needs_exactly_one_model_file(tmp_path: Path):
    (tmp_path / "a.joblib").write_bytes(b"1")
    (tmp_path / "b.pkl").write_bytes(b"2")
    with pytest.raises(UsageError) as err:
        DeployRequest("sklearn-iris", "knative", storage="pvc", model_dir=tmp_path).validate()
    assert "must hold exactly one model file" in err.value.message and "a.joblib, b.pkl" in err.value.message


def test_unknown_model_name_is_a_usage_error():
    with pytest.raises(UsageError) as err:
        rendered(DeployRequest("no-such-model", "knative"))
    assert "unknown model 'no-such-model'" in err.value.message


def test_every_release_in_the_matrix_has_both_mode_names():
    for release in load_matrix().releases.values():
        assert set(release.deployment_modes) == {"knative", "standard"}
