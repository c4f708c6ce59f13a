"""Storage for kslab deploy: a local model copied into a PVC through a helper pod, and s3:// credentials that
reach the cluster's Secret but never stdout, stderr or the run record (facts §6.5)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from kslab.exitcodes import ExitCode
from tests.deploy_support import NAME, NS, PODS, kslab, lab_fixture  # noqa: F401
from tests.fakecluster.controllers.lab import wait_for
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import PVCS, SECRETS
from tests.fakecluster.resources import SERVICEACCOUNTS as ACCOUNTS

HELPER = "kslab-copy-sklearn-iris"
KEY_ID = "AKIAKSLAB0TESTKEY42"
SECRET_KEY = "kslab/Secret+Value=Zq9xW3"
S3_ARGS = ("--storage", "s3", "--storage-uri", "s3://models/sklearn-iris", "--s3-endpoint", "minio-service.kslab:9000")


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    path = tmp_path / "built" / "sklearn-iris" / "v1"
    path.mkdir(parents=True)
    (path / "model.joblib").write_bytes(b"\x80\x04not-a-real-model")
    (path / "metadata.json").write_text("{}")
    return path


def test_pvc_storage_copies_the_model_through_a_helper_pod(lab, capsys, monkeypatch, model_dir):
    lab.seed()
    copies = []

    def fake_copy(access, source, namespace, pod, container, target, timeout=300):
        helper = lab.store.get(PODS, namespace, pod)  # it exists and is Ready while kslab copies
        assert any(c["type"] == "Ready" and c["status"] == "True" for c in helper["status"]["conditions"])
        copies.append((source, namespace, pod, container, target, helper["spec"]["volumes"]))

    monkeypatch.setattr("kslab.kube.kubectl.copy_into_pod", fake_copy)
    code, out, err = kslab(capsys, "-o", "json", "deploy", NAME, "--storage", "pvc", "--model-dir", str(model_dir))
    assert code == 0, err
    assert json.loads(out)["storage_uri"] == "pvc://kslab-models/sklearn-iris"
    claim = {"name": "models", "persistentVolumeClaim": {"claimName": "kslab-models"}}
    assert copies == [(model_dir / name, NS, HELPER, "copy", f"/pvc/sklearn-iris/{name}", [claim])
                      for name in ("metadata.json", "model.joblib")]
    pvc = lab.store.get(PVCS, NS, "kslab-models")
    assert pvc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"
    wait_for(lambda: lab.store.find(PODS, NS, HELPER) is None, 3, "the helper pod to be deleted")
    assert lab.isvc()["spec"]["predictor"]["model"]["storageUri"] == "pvc://kslab-models/sklearn-iris"
    predictor = lab.store.list(PODS, NS, label_selector=f"serving.kserve.io/inferenceservice={NAME}")[0]
    assert predictor and not predictor[0]["spec"].get("initContainers")  # PVCs are mounted, not downloaded
    record = lab.record()
    assert [s["name"] for s in record["steps"]] == ["render", "lint", "storage", "apply", "wait"]
    assert record["steps"][2]["observations"]["files"] == ["metadata.json", "model.joblib"]


def test_a_failed_copy_names_kubectl_and_cleans_up(lab, capsys, monkeypatch, model_dir):
    lab.seed()
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # real kubectl
    code, _, err = kslab(capsys, "deploy", NAME, "--storage", "pvc", "--model-dir", str(model_dir))
    assert code == ExitCode.CHECK_FAILED, err
    assert f"into pod {NS}/{HELPER} failed: error:" in err  # the fake API server has no exec streams
    assert f"hint: check the helper pod: kubectl describe pod {HELPER} -n {NS}" in err
    assert lab.isvc() is None
    wait_for(lambda: lab.store.find(PODS, NS, HELPER) is None, 3, "the helper pod to be deleted")


def _texts(lab, out: str, err: str) -> list[str]:
    return [out, err, *(p.read_text() for p in lab.records())]


def test_s3_credentials_reach_the_secret_and_nowhere_else(lab, capsys, monkeypatch):
    lab.seed()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    code, out, err = kslab(capsys, "-v", "-o", "json", "deploy", NAME, *S3_ARGS)
    assert code == 0, err
    secret = lab.store.get(SECRETS, NS, "kslab-s3-sklearn-iris")
    assert secret["stringData"] == {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    assert secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"] == "minio-service.kslab:9000"
    assert secret["metadata"]["annotations"]["serving.kserve.io/s3-usehttps"] == "0"
    assert lab.store.get(ACCOUNTS, NS, "kslab-s3-sklearn-iris")["secrets"] == [{"name": "kslab-s3-sklearn-iris"}]
    assert lab.isvc()["spec"]["predictor"]["serviceAccountName"] == "kslab-s3-sklearn-iris"
    for text in _texts(lab, out, err):
        assert KEY_ID not in text and SECRET_KEY not in text

    code, out, err = kslab(capsys, "-o", "json", "undeploy", NAME)
    assert code == 0, err
    assert set(json.loads(out)["deleted"]) == {"InferenceService/sklearn-iris", "Secret/kslab-s3-sklearn-iris",
                                               "ServiceAccount/kslab-s3-sklearn-iris"}


def test_an_error_that_echoes_a_credential_is_masked(lab, capsys, tmp_path):
    lab.seed()

    def echo_the_value(op, rt, obj, old):  # a validation error that quotes the offending value
        if rt is SECRETS and obj["metadata"]["name"].startswith("kslab-s3-"):
            raise ApiError(422, "Invalid", f'Secret "{obj["metadata"]["name"]}" is invalid: stringData['
                           f'AWS_SECRET_ACCESS_KEY]: Invalid value: "{obj["stringData"]["AWS_SECRET_ACCESS_KEY"]}"')
        return obj

    lab.store.admission.append(echo_the_value)
    credentials = tmp_path / "minio.env"
    credentials.write_text(f"AWS_ACCESS_KEY_ID={KEY_ID}\nAWS_SECRET_ACCESS_KEY='{SECRET_KEY}'\n")
    code, out, err = kslab(capsys, "deploy", NAME, *S3_ARGS, "--s3-credentials", str(credentials))
    assert code == ExitCode.CHECK_FAILED, err
    assert 'stringData[AWS_SECRET_ACCESS_KEY]: Invalid value: "***"' in err
    assert "***" in lab.record()["steps"][2]["error"]
    for text in _texts(lab, out, err):
        assert KEY_ID not in text and SECRET_KEY not in text


def test_s3_without_credentials_says_where_it_looked(lab, capsys, monkeypatch):
    lab.seed()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    code, _, err = kslab(capsys, "deploy", NAME, *S3_ARGS)
    assert code == ExitCode.USAGE
    assert "s3 credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY not found in the environment" in err
