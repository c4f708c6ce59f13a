"""The fake API server checks KServe custom resources against their CRD schemas, as a real apiserver does.

Schemas: tests/fakecluster/crd_schemas.py; behaviour: tests/fakecluster/crd_validation.py. Each test names
the upstream rule it relies on.
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import yaml
from kubernetes import client

from kslab.config.model import Settings
from kslab.deploy.request import DeployRequest
from kslab.deploy.service import render
from kslab.scenarios.actions_kube import render_isvc
from tests.fakecluster import admission
from tests.fakecluster.errors import ApiError
from tests.fakecluster.resources import ISVCS, SERVING_RUNTIMES

from .helpers import ISVC_PATH, isvc_body, namespace

KSERVE = ("serving.kserve.io", "v1beta1", "kserve-test", "inferenceservices")
APPLY = "application/apply-patch+yaml"
CRD = "kserve/kserve@v0.20.0:config/crd/full/serving.kserve.io_inferenceservices.yaml"


def _canary(model: dict[str, Any]) -> dict[str, Any]:
    body = isvc_body()
    body["spec"]["canary"] = [{"trafficPercent": 10, "predictor": {"name": "v2", "model": model}}]
    return body


def _refused(call: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(client.ApiException) as err:
        call()
    return err.value.status, json.loads(err.value.body)


def test_canary_model_without_name_is_invalid(fake_cluster, k8s):
    # kserve/kserve@v0.20.0:config/crd/full/serving.kserve.io_inferenceservices.yaml:
    # canary.items.predictor.model.required [modelFormat, name]
    namespace(fake_cluster)
    body = _canary({"modelFormat": {"name": "sklearn"}, "storageUri": "gs://models/v2"})
    code, status = _refused(lambda: k8s.custom.create_namespaced_custom_object(*KSERVE, body))
    assert code == 422
    assert status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Invalid", "code": 422,
        "message": 'InferenceService.serving.kserve.io "sklearn-iris" is invalid: '
                   "spec.canary[0].predictor.model.name: Required value",
        "details": {"name": "sklearn-iris", "group": "serving.kserve.io", "kind": "InferenceService",
                    "causes": [{"reason": "FieldValueRequired", "message": "Required value",
                                "field": "spec.canary[0].predictor.model.name"}]}}
    # the same through server-side apply (kslab's path): the typed patch is fine, the validation is not
    code, status = _refused(lambda: k8s.custom.patch_namespaced_custom_object(
        *KSERVE, "sklearn-iris", body, field_manager="kslab", _content_type=APPLY))
    assert code == 422 and status["details"]["causes"][0]["field"] == "spec.canary[0].predictor.model.name"
    body["spec"]["canary"][0]["predictor"]["model"]["name"] = "kserve-container"
    created = k8s.custom.create_namespaced_custom_object(*KSERVE, body)
    assert created["spec"]["canary"][0]["predictor"]["model"]["name"] == "kserve-container"


def test_several_violations_are_listed_in_one_message(fake_cluster, k8s):
    # CRD (above): canary.items.required [predictor, trafficPercent]; trafficPercent maximum 100
    namespace(fake_cluster)
    body = isvc_body()
    body["spec"]["canary"] = [{"trafficPercent": 120, "predictor": {"name": "v2"}}, {"predictor": {"name": "v3"}}]
    code, status = _refused(lambda: k8s.custom.create_namespaced_custom_object(*KSERVE, body))
    assert code == 422
    assert status["message"] == (
        'InferenceService.serving.kserve.io "sklearn-iris" is invalid: [spec.canary[0].trafficPercent: Invalid '
        "value: 120: spec.canary[0].trafficPercent in body should be less than or equal to 100, "
        "spec.canary[1].trafficPercent: Required value]")
    assert [c["reason"] for c in status["details"]["causes"]] == ["FieldValueInvalid", "FieldValueRequired"]


@pytest.mark.kubectl
def test_scale_metric_qps_is_not_supported(fake_cluster, kubectl):
    # CRD (above): predictor.scaleMetric enum [cpu, memory, concurrency, rps]
    namespace(fake_cluster)
    body = isvc_body()
    body["spec"]["predictor"]["scaleMetric"] = "qps"
    proc = kubectl("create", "-f", "-", input=yaml.safe_dump(body), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'The InferenceService "sklearn-iris" is invalid: spec.predictor.scaleMetric: Unsupported value: "qps": '
        'supported values: "cpu", "memory", "concurrency", "rps"')
    reply = fake_cluster.server.requests("POST", "/inferenceservices")[-1]
    assert reply.status == 422 and "fieldValidation=Strict" in reply.path


def test_string_min_replicas_is_a_type_error(fake_cluster, k8s):
    # CRD (above): predictor.minReplicas type integer (format int32)
    namespace(fake_cluster)
    body = isvc_body()
    body["spec"]["predictor"]["minReplicas"] = "two"
    code, status = _refused(lambda: k8s.custom.create_namespaced_custom_object(*KSERVE, body))
    assert code == 422
    assert status["details"]["causes"] == [{
        "reason": "FieldValueTypeInvalid", "field": "spec.predictor.minReplicas",
        "message": 'Invalid value: "string": spec.predictor.minReplicas in body must be of type integer: "string"'}]
    # server-side apply converts the patch to a typed object first and fails there with a 500
    # (kubernetes/kubernetes@v1.34.0:staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/
    # structuredmerge.go; kubernetes/kubernetes#139253)
    code, status = _refused(lambda: k8s.custom.patch_namespaced_custom_object(
        *KSERVE, "sklearn-iris", body, field_manager="kslab", _content_type=APPLY))
    assert code == 500 and "reason" not in status
    assert status["message"] == ("failed to create typed patch object (kserve-test/sklearn-iris; "
                                 "serving.kserve.io/v1beta1, Kind=InferenceService): .spec.predictor.minReplicas: "
                                 "expected numeric (int or float), got string")


@pytest.mark.kubectl
def test_unknown_fields_are_pruned_or_refused_as_the_request_asks(fake_cluster, kubectl):
    # CRD (above): no x-kubernetes-preserve-unknown-fields under spec, so undeclared fields are pruned;
    # fieldValidation: Warn by default, kubectl sends Strict (kubernetes/kubernetes@v1.34.0:staging/src/k8s.io/
    # apimachinery/pkg/apis/meta/v1/types.go, CreateOptions.FieldValidation)
    namespace(fake_cluster)
    body = isvc_body()
    body["spec"]["predictor"]["model"]["colour"] = "blue"
    body["spec"]["extra"] = {"a": 1}
    reply = requests.post(fake_cluster.url + ISVC_PATH, json=body, timeout=10)
    assert reply.status_code == 201
    assert reply.headers["Warning"] == ('299 - "unknown field \\"spec.extra\\"", '
                                        '299 - "unknown field \\"spec.predictor.model.colour\\""')
    stored = fake_cluster.store.get(ISVCS, "kserve-test", "sklearn-iris")
    assert stored["spec"] == isvc_body()["spec"]

    body["metadata"]["name"] = "strict"
    proc = kubectl("create", "-f", "-", input=yaml.safe_dump(body), check=False)
    assert proc.returncode == 1
    assert 'InferenceService in version "v1beta1" cannot be handled as a InferenceService: strict decoding error: ' \
           'unknown field "spec.extra", unknown field "spec.predictor.model.colour"' in proc.stderr
    proc = kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump(body), check=False)
    assert proc.returncode == 1
    assert ".spec.extra: field not declared in schema" in proc.stderr
    assert fake_cluster.store.find(ISVCS, "kserve-test", "strict") is None


def test_canary_is_an_unknown_field_before_0_20(fake_cluster, k8s):
    # kserve/kserve@v0.19.0:config/crd/full/serving.kserve.io_inferenceservices.yaml has no spec.canary (v0.20.0 has)
    namespace(fake_cluster)
    fake_cluster.kserve_version = "0.19.0"
    body = _canary({"storageUri": "gs://models/v2"})  # invalid under 0.20, but unknown (pruned) before
    assert "canary" not in k8s.custom.create_namespaced_custom_object(*KSERVE, body)["spec"]
    code, status = _refused(lambda: k8s.custom.patch_namespaced_custom_object(
        *KSERVE, "sklearn-iris", body, field_manager="kslab", _content_type=APPLY))
    assert code == 500 and status["message"].endswith(": .spec.canary: field not declared in schema")
    fake_cluster.kserve_version = "0.20.0"  # read live
    body["metadata"]["name"] = "later"
    assert _refused(lambda: k8s.custom.create_namespaced_custom_object(*KSERVE, body))[0] == 422


@pytest.mark.parametrize(("version", "mode"), [("0.15", "knative"), ("0.15", "standard"), ("0.16", "standard"),
                                               ("0.20", "knative"), ("0.20", "standard")])
def test_the_lab_inference_service_is_accepted_unchanged(fake_cluster, k8s, version, mode):
    namespace(fake_cluster)
    fake_cluster.kserve_version = version
    isvc, _ = render(Settings(kserve_version=version, namespace="kserve-test"),
                     DeployRequest("sklearn-iris", mode).validate())
    k8s.custom.patch_namespaced_custom_object(*KSERVE, "sklearn-iris", isvc, field_manager="kslab",
                                              _content_type=APPLY)
    assert fake_cluster.store.get(ISVCS, "kserve-test", "sklearn-iris")["spec"] == isvc["spec"]


def test_the_standard_canary_kslab_applies_is_valid(fake_cluster, k8s):
    # CRD (above): canary.items.predictor.model.required [modelFormat, name]. Fails on kslab before the fix
    # (its canary model had no name).
    namespace(fake_cluster)
    ctx = SimpleNamespace(settings=Settings(kserve_version="0.20", namespace="kserve-test", mode="standard"))
    isvc = render_isvc(ctx, {"isvc": "sklearn-iris", "model_version": "v1", "mode": "standard",  # type: ignore[arg-type]
                             "standard_canary": {"name": "v2", "model_version": "v2", "percent": 10}})
    k8s.custom.patch_namespaced_custom_object(*KSERVE, "sklearn-iris", isvc, field_manager="kslab",
                                              _content_type=APPLY)
    [canary] = fake_cluster.store.get(ISVCS, "kserve-test", "sklearn-iris")["spec"]["canary"]
    assert canary == isvc["spec"]["canary"][0] and canary["predictor"]["model"]["name"] == "kserve-container"


def test_serving_runtime_schema(fake_cluster):
    # kserve/kserve@v0.20.0:config/crd/full/serving.kserve.io_servingruntimes.yaml: spec.required [containers];
    # supportedModelFormats.items.priority minimum 1
    namespace(fake_cluster)
    runtime = {"metadata": {"name": "rt"}, "spec": {"supportedModelFormats": [{"name": "sklearn", "priority": 0}]}}
    with pytest.raises(ApiError) as err:
        fake_cluster.store.create(SERVING_RUNTIMES, "kserve-test", runtime)
    assert err.value.message == (
        'ServingRuntime.serving.kserve.io "rt" is invalid: [spec.containers: Required value, '
        "spec.supportedModelFormats[0].priority: Invalid value: 0: spec.supportedModelFormats[0].priority in body "
        "should be greater than or equal to 1]")


def test_schema_validation_runs_between_mutating_and_validating_admission(fake_cluster):
    # kubernetes/kubernetes@v1.34.0: handlers/create.go runs mutating admission, then registry/store.go the
    # strategy's validation, then validating admission
    namespace(fake_cluster)
    seen: list[str] = []

    def name_the_model(op: str, rt: Any, new: dict[str, Any], old: Any) -> dict[str, Any]:
        for item in new["spec"].get("canary") or []:
            item["predictor"]["model"].setdefault("name", "kserve-container")
        return new

    @admission.phase("validating")
    def deny_nothing(op: str, rt: Any, new: dict[str, Any], old: Any) -> dict[str, Any]:
        seen.append(new["metadata"]["name"])
        return new

    fake_cluster.store.admission[:0] = [deny_nothing]  # listed first, still runs last
    bad = _canary({"storageUri": "gs://models/v2"})
    with pytest.raises(ApiError) as err:
        fake_cluster.store.create(ISVCS, "kserve-test", bad)
    assert err.value.code == 422 and seen == []
    fake_cluster.store.admission.append(name_the_model)  # a mutating hook fixes what the schema requires
    fixed = copy.deepcopy(bad)
    fixed["spec"]["canary"][0]["predictor"]["model"]["modelFormat"] = {"name": "sklearn"}
    fake_cluster.store.create(ISVCS, "kserve-test", fixed)
    assert seen == ["sklearn-iris"]
