"""Pure parts of the fake CLI tools: config decoding, value parsing, chart rendering, port translation."""

from __future__ import annotations

import re

import pytest

from tests.fakecluster.tools import helm_chart, kind_config
from tests.fakecluster.tools.common import UsageError, format_duration, parse_args, parse_duration
from tests.fakecluster.tools.docker import normalize, render
from tests.fakecluster.tools.kubectl import KubectlError, _translate, find_verb, parse_port_forward

ISTIO = {"istio": "https://istio-release.storage.googleapis.com/charts"}


# -- common -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "seconds"), [("300s", 300), ("5m", 300), ("10m0s", 600), ("1h30m", 5400),
                                               ("1.5s", 1.5), ("500ms", 0.5), ("0", 0)])
def test_go_durations_parse(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_bad_duration_is_rejected_like_go():
    with pytest.raises(ValueError, match='time: invalid duration "5 minutes"'):
        parse_duration("5 minutes")
    assert format_duration(300) == "5m0s" and format_duration(3600) == "1h0m0s"


def test_flag_parsing_interleaves_flags_and_positionals():
    flags, rest = parse_args(["x", "--set", "a=1", "-n", "ns", "--wait", "y", "--set=b=2", "-nfoo"],
                             {"--set": "set", "-n": "ns"}, {"--wait": "wait"}, frozenset({"set"}))
    assert flags == {"set": ["a=1", "b=2"], "ns": "foo", "wait": True}
    assert rest == ["x", "y"]
    with pytest.raises(UsageError, match="unknown flag: --nope"):
        parse_args(["--nope"], {}, {})


# -- kind config ----------------------------------------------------------------------------------------
def test_kind_config_unknown_fields_are_reported_with_lines_and_types():
    raw = ("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodez: []\nnodes:\n- role: control-plane\n"
           "  extraPortMappings:\n  - containerPort: eighty\n    hostPort: 80\n    hostIP: 0.0.0.0\n")
    with pytest.raises(kind_config.ConfigError) as caught:
        kind_config.parse(raw)
    assert str(caught.value).splitlines() == [
        "unable to decode config: yaml: unmarshal errors:",
        "  line 3: field nodez not found in type v1alpha4.Cluster",
        "  line 7: cannot unmarshal !!str `eighty` into int32",
        "  line 9: field hostIP not found in type v1alpha4.PortMapping",
    ]


def test_kind_config_version_and_kind_checks_keep_kinds_wording():
    with pytest.raises(kind_config.ConfigError, match=re.escape("unknown apiVersion: kind.x-k8s.io/v1")):
        kind_config.parse("kind: Cluster\napiVersion: kind.x-k8s.io/v1\n")
    swapped = "unknown kind kind.x-k8s.io/v1alpha4 for apiVersion: Config"  # kind prints the values swapped
    with pytest.raises(kind_config.ConfigError, match=re.escape(swapped)):
        kind_config.parse("kind: Config\napiVersion: kind.x-k8s.io/v1alpha4\n")


def test_kind_config_validation_aggregates_node_errors():
    cfg = kind_config.parse("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: master\n"
                            "  image: kindest/node:v1.34.0\n  extraPortMappings:\n"
                            "  - {containerPort: 80, hostPort: 8080}\n  - {containerPort: 81, hostPort: 8080}\n")
    with pytest.raises(kind_config.ConfigError) as caught:
        kind_config.validate("Lab", cfg)
    message = str(caught.value)
    assert "'Lab' is not a valid cluster name" in message
    assert '"master" is not a valid node role' in message
    assert "port mapping with same listen address, port and protocol already configured: 0.0.0.0:8080/TCP" in message
    assert "must have at least one control-plane node" in message


# -- helm values and charts ------------------------------------------------------------------------------
def test_set_values_are_typed_like_helm_strvals():
    values: dict = {}
    helm_chart.parse_set("a.b=true,a.c=5,a.d=007,n=null,l={x,y},arr[1].k=v", values)
    helm_chart.parse_set(r"pilot.podAnnotations.cluster-autoscaler\.kubernetes\.io/safe-to-evict=true", values,
                         as_string=True)
    assert values == {"a": {"b": True, "c": 5, "d": "007"}, "n": None, "l": ["x", "y"], "arr": [{}, {"k": "v"}],
                      "pilot": {"podAnnotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}}}


def test_gateway_chart_names_follow_the_release():
    chart, pulled = helm_chart.locate("istio/gateway", None, ISTIO)
    assert pulled is None and chart.version == "1.27.1"
    objects = helm_chart.render(chart, "istio-ingressgateway", "istio-system", helm_chart.effective_values(chart, {}))
    service = next(o for o in objects if o["kind"] == "Service")
    assert service["spec"]["selector"] == {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [
        ("status-port", 15021), ("http2", 80), ("https", 443)]


def test_kserve_chart_versions_pick_names_and_defaults():
    old, pulled = helm_chart.locate("oci://ghcr.io/kserve/charts/kserve", "v0.15.2", {})
    assert pulled == "ghcr.io/kserve/charts/kserve:v0.15.2"
    assert helm_chart.effective_values(old, {})["kserve"]["controller"]["deploymentMode"] == "Serverless"
    new, _ = helm_chart.locate("oci://ghcr.io/kserve/charts/kserve", "v0.16.0", {})
    assert helm_chart.effective_values(new, {})["kserve"]["controller"]["deploymentMode"] == "Knative"
    with pytest.raises(helm_chart.ChartError, match=re.escape("ghcr.io/kserve/charts/kserve:v0.17.0: not found")):
        helm_chart.locate("oci://ghcr.io/kserve/charts/kserve", "v0.17.0", {})
    with pytest.raises(helm_chart.ChartError, match=re.escape("kserve-resources:v0.16.0: not found")):
        helm_chart.locate("oci://ghcr.io/kserve/charts/kserve-resources", "v0.16.0", {})


def test_runtime_formats_follow_the_kserve_version():
    def formats(version: str) -> dict[str, list]:
        chart, _ = helm_chart.locate("oci://ghcr.io/kserve/charts/kserve", version, {})
        values = helm_chart.effective_values(chart, {})
        return {o["metadata"]["name"]: o["spec"]["supportedModelFormats"]
                for o in helm_chart.render(chart, "kserve", "kserve", values) if o["kind"] == "ClusterServingRuntime"}
    assert formats("v0.15.2")["kserve-xgbserver"][0]["version"] == "1"
    chart, _ = helm_chart.locate("oci://ghcr.io/kserve/charts/kserve-runtime-configs", "v0.20.0", {})
    values = helm_chart.effective_values(chart, {"kserve": {"servingruntime": {"enabled": True}}})
    runtimes = {o["metadata"]["name"]: o for o in helm_chart.render(chart, "r", "kserve", values)}
    assert runtimes["kserve-xgbserver"]["spec"]["supportedModelFormats"][0]["version"] == "2"
    assert runtimes["kserve-sklearnserver"]["spec"]["containers"][0]["args"][0] == "--model_name={{.Name}}"


@pytest.mark.parametrize(("ref", "version", "message"), [
    ("istio/nope", None, "chart \"nope\" matching  not found in istio index. (try 'helm repo update'): "
                         "no chart name found"),
    ("istio/base", "0.1.0", "no chart version found for base-0.1.0"),
    ("other/base", None, "repo other not found"),
    ("https://example.com/c.tgz", None, "failed to fetch https://example.com/c.tgz : 404 Not Found"),
    ("./chart", None, 'path "./chart" not found'),
])
def test_chart_lookup_failures_use_helms_messages(ref, version, message):
    with pytest.raises(helm_chart.ChartError) as caught:
        helm_chart.locate(ref, version, ISTIO)
    assert message in str(caught.value)


# -- docker -----------------------------------------------------------------------------------------
def test_docker_references_and_templates():
    assert normalize("nginx") == "docker.io/library/nginx:latest"
    assert normalize("kserve/sklearnserver:v0.20.0") == "docker.io/kserve/sklearnserver:v0.20.0"
    assert normalize("localhost:5001/img") == "localhost:5001/img:latest"
    data = {"Server": {"Version": "28.4.0"}, "NCPU": 8, "Labels": {"k": "v"}}
    assert render("{{.Server.Version}}", data) == "28.4.0"
    assert render("{{ .NCPU }} {{json .Server}} {{.Label \"k\"}}", data) == '8 {"Version":"28.4.0"} v'


# -- kubectl port-forward resolution ------------------------------------------------------------------
POD = {"metadata": {"name": "gw-1"}, "spec": {"containers": [{"ports": [{"name": "https", "containerPort": 10250}]}]}}


def _service(*ports: dict) -> dict:
    return {"metadata": {"name": "svc"}, "spec": {"ports": list(ports)}}


def test_service_ports_translate_to_container_ports_like_kubectl():
    svc = _service({"name": "http2", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443,
                                                                       "targetPort": "https"},
                   {"name": "plain", "port": 9000})
    assert _translate("80", svc, POD) == ("80", 8080)
    assert _translate(":80", svc, POD) == ("", 8080)
    assert _translate("8443:443", svc, POD) == ("8443", 10250)
    assert _translate("http2", svc, POD) == ("80", 8080)
    assert _translate("9000", svc, POD) == ("9000", 9000)
    with pytest.raises(KubectlError, match="error: Service svc does not have a service port 81"):
        _translate("81", svc, POD)
    with pytest.raises(KubectlError, match="error: Pod 'gw-1' does not have a named port 'metrics'"):
        _translate("9", _service({"port": 9, "targetPort": "metrics"}), POD)


def test_wrapper_finds_the_verb_after_global_flags():
    assert find_verb(["-n", "istio-system", "port-forward", "svc/x", "80"]) == "port-forward"
    assert find_verb(["--kubeconfig=/k", "get", "ns"]) == "get"
    flags, rest = parse_port_forward(["--address", "0.0.0.0", "port-forward", "-n", "ns", "svc/x", ":80",
                                      "--pod-running-timeout=5s"])
    assert flags == {"address": "0.0.0.0", "namespace": "ns", "pod-running-timeout": "5s"}
    assert rest == ["svc/x", ":80"]
