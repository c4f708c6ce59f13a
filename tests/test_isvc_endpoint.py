"""A cluster provider's endpoint(): an InferenceService in the fake cluster, via the fake kubectl's port-forward."""

from __future__ import annotations

import json

import pytest

from kslab.cli.main import run
from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.portforward.endpoints import recorded_mode, runtime_protocols
from kslab.providers.base import Provider
from kslab.providers.registry import make_provider
from kslab.session import Environment
from tests.fakecluster.controllers.lab import install_and_wait, sklearn_iris, wait_for
from tests.portforward_support import ISVCS, NAME, NS, backend, create_ready_isvc, knative_lab, request, running_pod

HOST = "sklearn-iris.kserve-test.example.com"
PREDICT_BODY = json.dumps({"instances": [[6.8, 2.8, 4.8, 1.4]]}).encode()


def settings_for(fake_tools) -> Settings:
    return Settings(provider="existing", kubeconfig=str(fake_tools.cluster.kubeconfig_path), namespace=NS)


def _provider(fake_tools) -> Provider:
    return make_provider(settings_for(fake_tools), Environment.from_process())


@pytest.mark.parametrize("kserve_version", ["0.20.0", "0.14.0"])  # 0.14: no status.deploymentMode, a ksvc says
def test_knative_mode_goes_through_the_gateway_with_the_isvc_host(fake_tools, kserve_version):
    cluster = fake_tools.cluster
    cluster.controllers.settings.kserve_version = kserve_version
    gateway = knative_lab(cluster)
    assert ("deploymentMode" in cluster.store.get(ISVCS, NS, NAME)["status"]) == (kserve_version == "0.20.0")
    with backend() as gateway_pod:
        cluster.node.register_proxy("istio-system", gateway, 80, gateway_pod.url)
        with _provider(fake_tools).endpoint(NAME) as endpoint:
            assert (endpoint.model_name, endpoint.host, endpoint.protocols, endpoint.via) == (
                NAME, HOST, ("v1", "v2"), "port-forward")
            port = int(endpoint.base_url.rsplit(":", 1)[1])
            assert endpoint.base_url == f"http://127.0.0.1:{port}"
            seen = request(f"{endpoint.base_url}/v1/models/{NAME}:predict", endpoint.headers(), PREDICT_BODY)
    assert (seen["host"], seen["path"], seen["body"]) == (HOST, f"/v1/models/{NAME}:predict", PREDICT_BODY.decode())
    ksvc_lookups = cluster.server.requests("GET", "/apis/serving.knative.dev/v1/namespaces/kserve-test/services/")
    assert len(ksvc_lookups) == (0 if kserve_version == "0.20.0" else 1)
    argv = fake_tools.calls("kubectl")[-1]
    assert argv[argv.index("--namespace") + 1] == "istio-system"
    assert argv[-2:] == ["svc/istio-ingressgateway", f"{port}:80"]


def test_standard_mode_forwards_to_the_predictor_service_and_pod_to_port_8080(fake_tools):
    cluster = fake_tools.cluster
    install_and_wait(cluster.store, cluster.controllers.settings, mode="Standard", knative=False, lean=True)
    create_ready_isvc(cluster)
    pod = running_pod(cluster, NS, f"app=isvc.{NAME}-predictor")
    with backend() as model_server:
        cluster.node.register_proxy(NS, pod, 8080, model_server.url)
        with _provider(fake_tools).endpoint(NAME) as endpoint:
            assert endpoint.host is None
            seen = request(f"{endpoint.base_url}/v1/models/{NAME}")
            service_argv = fake_tools.calls("kubectl")[-1]
        with _provider(fake_tools).endpoint(NAME, pod=pod, port=None) as direct:
            assert direct.host is None
            request(f"{direct.base_url}/v2/health/ready")
            pod_argv = fake_tools.calls("kubectl")[-1]
    assert seen["path"] == f"/v1/models/{NAME}" and seen["host"] == endpoint.base_url.removeprefix("http://")
    assert service_argv[service_argv.index("--namespace") + 1] == NS
    assert service_argv[-2] == f"svc/{NAME}-predictor" and service_argv[-1].endswith(":80")
    assert pod_argv[-2] == f"pod/{pod}" and pod_argv[-1].endswith(":8080")
    assert [s["path"] for s in model_server.seen] == [f"/v1/models/{NAME}", "/v2/health/ready"]


def test_missing_and_not_ready_isvcs_are_one_line_errors_with_the_fix(fake_tools, capsys):
    cluster = fake_tools.cluster
    install_and_wait(cluster.store, cluster.controllers.settings, lean=True, runtimes=False)
    argv = ["--kubeconfig", str(cluster.kubeconfig_path), "port-forward", NAME]
    assert run(argv) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: InferenceService {NAME} not found in namespace {NS}",
        f"hint: deploy it first: kslab deploy {NAME} (or choose the namespace with -n)"]

    body = sklearn_iris()
    body["spec"]["predictor"]["model"]["runtime"] = "kserve-sklearnserver"  # not installed: never Ready
    cluster.store.create(ISVCS, NS, body)
    wait_for(lambda: (cluster.store.get(ISVCS, NS, NAME).get("status") or {}).get("modelStatus"), 5, "modelStatus")
    with pytest.raises(CheckFailed) as caught, _provider(fake_tools).endpoint(NAME):
        pass
    assert caught.value.message == (f"InferenceService {NS}/{NAME} is not Ready: IngressReady=Unknown, "
                                    "PredictorReady=Unknown, Ready=Unknown; model: RuntimeNotRecognized (Waiting for "
                                    "runtime to become available)")
    assert caught.value.hint == f"wait for it with 'kslab deploy {NAME}', or find the broken layer with " \
                                f"'kslab doctor {NAME}'"
    assert fake_tools.calls("kubectl") == []  # no forward was attempted


@pytest.mark.parametrize("isvc, protocols", [
    ({"status": {"clusterServingRuntimeName": "kserve-mlserver"}}, ("v2",)),
    ({"status": {"clusterServingRuntimeName": "kserve-sklearnserver"}}, ("v1", "v2")),
    ({"spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "protocolVersion": "v2"}}}}, ("v2",)),
    ({"spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "protocolVersion": "v2",
                                       "runtime": "kserve-sklearnserver"}}}}, ("v1", "v2")),
    ({"status": {"servingRuntimeName": "kserve-tensorflow-serving"}}, ("v1",)),
])
def test_protocols_come_from_the_serving_runtime(isvc, protocols):
    assert runtime_protocols(isvc) == protocols


@pytest.mark.parametrize("status, annotation, mode", [
    ("Knative", None, "knative"), ("Serverless", None, "knative"), ("Standard", "Standard", "standard"),
    (None, "RawDeployment", "standard"), (None, "Serverless", "knative"), (None, None, None),
])
def test_deployment_mode_from_status_then_annotation(status, annotation, mode):
    isvc = {"metadata": {"annotations": {"serving.kserve.io/deploymentMode": annotation} if annotation else {}},
            "status": {"deploymentMode": status} if status else {}}
    assert recorded_mode(isvc) == mode
