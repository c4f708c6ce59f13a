"""The fake helm against the fake cluster: charts create the stack's objects, releases live in Secrets.

Most calls run helm's ``main()`` in-process (same code as the shim, no interpreter start-up); the
shim path is covered by the first test. ``--wait`` relies on the simulated controllers making
Deployments Available.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.fakecluster.resources import by_key
from tests.fakecluster.tools import helm
from tests.fakecluster.tools.helm_release import decode

ISTIO_REPO = "https://istio-release.storage.googleapis.com/charts"
KSERVE = "oci://ghcr.io/kserve/charts"


@pytest.fixture
def run_helm(fake_tools, capsys):
    """helm in-process: returns (exit code, stdout, stderr)."""
    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = helm.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def _get(cluster, key: str, namespace: str | None, name: str) -> dict:
    return cluster.store.get(by_key(key), namespace, name)


def _names(cluster, key: str, namespace: str | None = None) -> set[str]:
    items, _ = cluster.store.list(by_key(key), namespace)
    return {o["metadata"]["name"] for o in items}


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err
    return out


def test_version_and_repositories_through_the_shim(fake_tools):
    short = fake_tools.run("helm", "version", "--short")
    assert short.stdout == "v3.18.4+gd80839c\n"
    added = fake_tools.run("helm", "repo", "add", "istio", ISTIO_REPO)
    assert added.stdout == '"istio" has been added to your repositories\n'
    again = fake_tools.run("helm", "repo", "add", "istio", ISTIO_REPO)
    assert again.stdout == '"istio" already exists with the same configuration, skipping\n'
    clash = fake_tools.run("helm", "repo", "add", "istio", "https://charts.jetstack.io")
    assert (clash.returncode, clash.stderr) == (
        1, "Error: repository name (istio) already exists, please specify a different name\n")
    updated = fake_tools.run("helm", "repo", "update")
    assert updated.stdout.splitlines()[-1] == "Update Complete. ⎈Happy Helming!⎈"
    unknown = fake_tools.run("helm", "repo", "add", "x", "https://example.invalid/charts")
    assert unknown.returncode == 1 and "is not a valid chart repository or cannot be reached" in unknown.stderr


def test_istio_charts_create_the_gateway_and_store_releases(fake_tools, run_helm):
    cluster = fake_tools.cluster
    _ok(run_helm("repo", "add", "istio", ISTIO_REPO))
    out = _ok(run_helm("upgrade", "-i", "istio-base", "istio/base", "-n", "istio-system", "--create-namespace",
                       "--set", "defaultRevision=default", "--wait"))
    assert out.splitlines()[:2] == ['Release "istio-base" does not exist. Installing it now.', "NAME: istio-base"]
    assert "STATUS: deployed\nREVISION: 1\n" in out
    _ok(run_helm("upgrade", "-i", "istiod", "istio/istiod", "-n", "istio-system", "--set",
                 "proxy.autoInject=disabled", "--wait", "--timeout", "30s"))
    _ok(run_helm("upgrade", "-i", "istio-ingressgateway", "istio/gateway", "-n", "istio-system"))

    istiod = _get(cluster, "apps/deployments", "istio-system", "istiod")
    assert istiod["metadata"]["labels"]["app"] == "istiod"
    assert {c["type"]: c["status"] for c in istiod["status"]["conditions"]}["Available"] == "True"
    gateway = _get(cluster, "apps/deployments", "istio-system", "istio-ingressgateway")
    assert {"app": "istio-ingressgateway", "istio": "ingressgateway"}.items() <= \
        gateway["spec"]["template"]["metadata"]["labels"].items()
    service = _get(cluster, "/services", "istio-system", "istio-ingressgateway")
    assert service["spec"]["type"] == "LoadBalancer"
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [
        ("status-port", 15021), ("http2", 80), ("https", 443)]
    assert service["metadata"]["labels"]["istio"] == "ingressgateway"
    assert service["metadata"]["annotations"]["meta.helm.sh/release-name"] == "istio-ingressgateway"

    secret = _get(cluster, "/secrets", "istio-system", "sh.helm.release.v1.istiod.v1")
    assert secret["type"] == "helm.sh/release.v1"
    assert {k: secret["metadata"]["labels"][k] for k in ("owner", "name", "status", "version")} == {
        "owner": "helm", "name": "istiod", "status": "deployed", "version": "1"}
    release = decode(secret)
    assert (release["name"], release["namespace"], release["version"]) == ("istiod", "istio-system", 1)
    assert release["config"] == {"proxy": {"autoInject": "disabled"}}
    assert "# Source: istiod/templates/deployment-istiod.yaml" in release["manifest"]

    listed = json.loads(_ok(run_helm("list", "-n", "istio-system", "-o", "json")))
    assert [(r["name"], r["revision"], r["status"], r["chart"]) for r in listed] == [
        ("istio-base", "1", "deployed", "base-1.27.1"), ("istio-ingressgateway", "1", "deployed", "gateway-1.27.1"),
        ("istiod", "1", "deployed", "istiod-1.27.1")]


def test_cert_manager_and_knative_operator_charts(fake_tools, run_helm):
    cluster = fake_tools.cluster
    _ok(run_helm("repo", "add", "jetstack", "https://charts.jetstack.io"))
    _ok(run_helm("upgrade", "-i", "cert-manager", "jetstack/cert-manager", "--version", "v1.17.0", "-n",
                 "cert-manager", "--create-namespace", "--set", "crds.enabled=true", "--wait", "--timeout", "30s"))
    labels = {name: _get(cluster, "apps/deployments", "cert-manager", name)["metadata"]["labels"]["app"]
              for name in ("cert-manager", "cert-manager-cainjector", "cert-manager-webhook")}
    assert labels == {"cert-manager": "cert-manager", "cert-manager-cainjector": "cainjector",
                      "cert-manager-webhook": "webhook"}
    assert "certificates.cert-manager.io" in _names(cluster, "apiextensions.k8s.io/customresourcedefinitions")

    url = ("https://github.com/knative/operator/releases/download/knative-v1.21.1/"
           "knative-operator-v1.21.1.tgz")
    _ok(run_helm("install", "knative-operator", url, "-n", "knative-operator", "--create-namespace", "--wait",
                 "--timeout", "30s"))
    operator = _get(cluster, "apps/deployments", "knative-operator", "knative-operator")
    assert operator["spec"]["template"]["metadata"]["labels"]["name"] == "knative-operator"
    assert "operator-webhook" in _names(cluster, "apps/deployments", "knative-operator")
    pods, _ = cluster.store.list(by_key("/pods"), "knative-operator", label_selector="name=knative-operator")
    assert pods, "the simulated controllers should have created the operator pod"
    assert "knativeservings.operator.knative.dev" in _names(cluster, "apiextensions.k8s.io/customresourcedefinitions")


def test_kserve_charts_create_controller_config_and_runtimes(fake_tools, run_helm):
    cluster = fake_tools.cluster
    _ok(run_helm("repo", "add", "jetstack", "https://charts.jetstack.io"))
    _ok(run_helm("upgrade", "-i", "cert-manager", "jetstack/cert-manager", "-n", "cert-manager",
                 "--create-namespace", "--set", "crds.enabled=true"))
    code, _, err = run_helm("upgrade", "-i", "kserve-crd", f"{KSERVE}/kserve-crd", "--version", "v0.20.0", "-n",
                            "kserve", "--create-namespace", "--wait")
    assert code == 0 and err.startswith("Pulled: ghcr.io/kserve/charts/kserve-crd:v0.20.0\nDigest: sha256:")
    assert "inferenceservices.serving.kserve.io" in _names(cluster, "apiextensions.k8s.io/customresourcedefinitions")
    _ok(run_helm("upgrade", "-i", "kserve-resources", f"{KSERVE}/kserve-resources", "--version", "v0.20.0", "-n",
                 "kserve", "--set", "kserve.controller.deploymentMode=Standard", "--wait", "--timeout", "30s"))
    manager = _get(cluster, "apps/deployments", "kserve", "kserve-controller-manager")
    assert manager["metadata"]["labels"]["control-plane"] == "kserve-controller-manager"
    assert [c["name"] for c in manager["spec"]["template"]["spec"]["containers"]] == ["manager"]
    assert "kserve-webhook-server-service" in _names(cluster, "/services", "kserve")
    config = _get(cluster, "/configmaps", "kserve", "inferenceservice-config")
    assert json.loads(config["data"]["deploy"]) == {"defaultDeploymentMode": "Standard"}
    assert _names(cluster, "serving.kserve.io/clusterservingruntimes") == set()

    _ok(run_helm("upgrade", "-i", "kserve-runtime-configs", f"{KSERVE}/kserve-runtime-configs", "--version",
                 "v0.20.0", "-n", "kserve"))
    assert _names(cluster, "serving.kserve.io/clusterservingruntimes") == set(), "chart default is disabled"
    _ok(run_helm("upgrade", "-i", "kserve-runtime-configs", f"{KSERVE}/kserve-runtime-configs", "--version",
                 "v0.20.0", "-n", "kserve", "--set", "kserve.servingruntime.enabled=true"))
    runtimes = {n: _get(cluster, "serving.kserve.io/clusterservingruntimes", None, n)["spec"]
                for n in ("kserve-sklearnserver", "kserve-mlserver", "kserve-xgbserver", "kserve-lgbserver")}
    sklearn = runtimes["kserve-sklearnserver"]
    assert sklearn["supportedModelFormats"] == [{"name": "sklearn", "version": "1", "autoSelect": True,
                                                 "priority": 1}]
    assert sklearn["protocolVersions"] == ["v1", "v2"]
    assert sklearn["containers"][0]["image"] == "kserve/sklearnserver:v0.20.0"
    mlserver = runtimes["kserve-mlserver"]
    assert mlserver["protocolVersions"] == ["v2"]
    assert {(f["version"], f["priority"]) for f in mlserver["supportedModelFormats"] if f["name"] == "sklearn"} \
        == {("0", 2), ("1", 2)}
    history = _names(cluster, "/secrets", "kserve")
    assert {"sh.helm.release.v1.kserve-runtime-configs.v1", "sh.helm.release.v1.kserve-runtime-configs.v2"} \
        <= history
    first = decode(_get(cluster, "/secrets", "kserve", "sh.helm.release.v1.kserve-runtime-configs.v1"))
    assert first["info"]["status"] == "superseded"


def test_old_kserve_chart_bundles_runtimes_and_defaults_to_serverless(fake_tools, run_helm):
    cluster = fake_tools.cluster
    _ok(run_helm("repo", "add", "jetstack", "https://charts.jetstack.io"))
    _ok(run_helm("install", "cert-manager", "jetstack/cert-manager", "-n", "cert-manager", "--create-namespace",
                 "--set", "installCRDs=true"))
    _ok(run_helm("install", "kserve-crd", f"{KSERVE}/kserve-crd", "--version", "v0.15.2", "-n", "kserve",
                 "--create-namespace"))
    _ok(run_helm("install", "kserve", f"{KSERVE}/kserve", "--version", "v0.15.2", "-n", "kserve"))
    config = _get(cluster, "/configmaps", "kserve", "inferenceservice-config")
    assert json.loads(config["data"]["deploy"]) == {"defaultDeploymentMode": "Serverless"}
    assert "kserve-sklearnserver" in _names(cluster, "serving.kserve.io/clusterservingruntimes")
    code, _, err = run_helm("install", "kserve2", f"{KSERVE}/kserve", "--version", "v0.17.1", "-n", "kserve")
    assert (code, err.strip()) == (1, "Error: INSTALLATION FAILED: ghcr.io/kserve/charts/kserve:v0.17.1: not found")


def test_wait_times_out_on_a_load_balancer_that_never_gets_an_address(fake_tools, run_helm):
    cluster = fake_tools.cluster
    _ok(run_helm("repo", "add", "istio", ISTIO_REPO))
    code, out, err = run_helm("upgrade", "-i", "istio-ingressgateway", "istio/gateway", "-n", "istio-system",
                              "--create-namespace", "--wait", "--timeout", "1s")
    assert (code, err) == (1, "Error: context deadline exceeded\n")
    assert out == 'Release "istio-ingressgateway" does not exist. Installing it now.\n'
    secret = _get(cluster, "/secrets", "istio-system", "sh.helm.release.v1.istio-ingressgateway.v1")
    assert secret["metadata"]["labels"]["status"] == "failed"
    code, _, err = run_helm("upgrade", "-i", "istio-ingressgateway", "istio/gateway", "-n", "istio-system",
                            "--wait", "--timeout", "1s")
    assert (code, err) == (1, "Error: UPGRADE FAILED: context deadline exceeded\n")
    code, _, err = run_helm("install", "gw2", "istio/gateway", "-n", "istio-system", "--wait", "--timeout", "500ms")
    assert (code, err) == (1, "Error: INSTALLATION FAILED: context deadline exceeded\n")
    code, _, err = run_helm("install", "gw3", "istio/gateway", "-n", "istio-system", "--atomic", "--timeout", "300ms")
    assert (code, err) == (1, "Error: INSTALLATION FAILED: release gw3 failed, and has been uninstalled due to "
                              "atomic being set: context deadline exceeded\n")
    assert "gw3" not in _names(cluster, "apps/deployments", "istio-system")
    _ok(run_helm("upgrade", "-i", "istio-ingressgateway", "istio/gateway", "-n", "istio-system", "--set",
                 "service.type=NodePort", "--wait", "--timeout", "30s"))
    assert _get(cluster, "/services", "istio-system", "istio-ingressgateway")["spec"]["type"] == "NodePort"
    listed = json.loads(_ok(run_helm("list", "-n", "istio-system", "-o", "json")))
    assert [(r["name"], r["revision"], r["status"]) for r in listed] == [
        ("gw2", "1", "failed"), ("istio-ingressgateway", "3", "deployed")]


def test_install_errors_match_helm(fake_tools, run_helm):
    _ok(run_helm("repo", "add", "istio", ISTIO_REPO))
    code, _, err = run_helm("install", "istio-base", "istio/base", "-n", "nope")
    assert (code, err) == (1, 'Error: INSTALLATION FAILED: create: failed to create: namespaces "nope" not found\n')
    code, _, err = run_helm("install", "x", "istio/nope", "-n", "default")
    assert code == 1 and err.startswith('Error: INSTALLATION FAILED: chart "nope" matching  not found in istio index')
    code, _, err = run_helm("install", "x", "jetstack/cert-manager")
    assert (code, err) == (1, "Error: INSTALLATION FAILED: repo jetstack not found\n")
    code, _, err = run_helm("install", "kr", f"{KSERVE}/kserve-resources", "-n", "default")
    assert code == 1 and 'no matches for kind "Issuer" in version "cert-manager.io/v1"' in err
    assert "ensure CRDs are installed first" in err
    _ok(run_helm("install", "istio-base", "istio/base", "-n", "default"))
    code, _, err = run_helm("install", "istio-base", "istio/base", "-n", "default")
    assert (code, err) == (1, "Error: INSTALLATION FAILED: cannot re-use a name that is still in use\n")
    code, _, err = run_helm("upgrade", "other", "istio/base", "-n", "default")
    assert (code, err) == (1, 'Error: UPGRADE FAILED: "other" has no deployed releases\n')


def test_existing_objects_without_helm_ownership_block_the_install(fake_tools, run_helm, kubectl):
    kubectl("apply", "--server-side", "--validate=false", "-f", "-", input=(
        "apiVersion: v1\nkind: Service\nmetadata: {name: istiod, namespace: default}\n"
        "spec: {ports: [{port: 15010}]}\n"))
    _ok(run_helm("repo", "add", "istio", ISTIO_REPO))
    code, _, err = run_helm("install", "istiod", "istio/istiod", "-n", "default")
    assert code == 1
    assert err.startswith('Error: INSTALLATION FAILED: Unable to continue with install: Service "istiod" in '
                          'namespace "default" exists and cannot be imported into the current release: invalid '
                          'ownership metadata; label validation error: missing key "app.kubernetes.io/managed-by": '
                          'must be set to "Helm"')


def test_uninstall_removes_objects_and_history(fake_tools, run_helm):
    cluster = fake_tools.cluster
    _ok(run_helm("repo", "add", "istio", ISTIO_REPO))
    _ok(run_helm("install", "istiod", "istio/istiod", "-n", "default"))
    assert "istiod" in _names(cluster, "apps/deployments", "default")
    assert _ok(run_helm("uninstall", "istiod", "-n", "default", "--wait")) == 'release "istiod" uninstalled\n'
    assert "istiod" not in _names(cluster, "apps/deployments", "default")
    assert not any(n.startswith("sh.helm.release.v1.istiod") for n in _names(cluster, "/secrets", "default"))
    code, _, err = run_helm("status", "istiod", "-n", "default")
    assert (code, err) == (1, "Error: release: not found\n")
    code, _, err = run_helm("uninstall", "istiod", "-n", "default")
    assert (code, err) == (1, "Error: uninstall: Release not loaded: istiod: release: not found\n")


def test_helm_follows_the_kubeconfig_context(fake_tools, tmp_path):
    empty = tmp_path / "empty-kubeconfig"
    empty.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    result = subprocess.run(["helm", "list", "--kubeconfig", str(empty)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith('Error: Kubernetes cluster unreachable: Get "http://localhost:8080/version"')
