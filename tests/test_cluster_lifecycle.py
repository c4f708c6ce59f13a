"""kslab up / status / down end to end: fake kind, minikube, helm and docker on PATH, fake cluster behind.

The helm argv for KServe 0.20 and 0.15 is pinned to KServe's own install scripts (upstream facts, sources beside
KSERVE_020_INSTALLS and in the 0.15 test); what kslab reports back (status, run record, Knative version) is checked
against manifests/stack/versions.yaml as the file says it (tests/versions_support.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.up_support import lab_env_fixture  # noqa: F401  (fixture registration)
from tests.versions_support import pins


def up(capsys, *args):
    code = run(["-o", "json", "up", *args])
    captured = capsys.readouterr()
    return code, captured


def helm_installs(tools):
    """(release, chart, namespace, version, [--set/--set-string values]) of every helm upgrade --install."""
    out = []
    for argv in tools.calls("helm"):
        if argv[:2] != ["upgrade", "--install"]:
            continue
        values = [argv[i + 1] for i, a in enumerate(argv) if a in ("--set", "--set-string")]
        version = argv[argv.index("--version") + 1] if "--version" in argv else None
        out.append((argv[2], argv[3], argv[argv.index("--namespace") + 1], version, values))
    return out


# Upstream: KServe 0.20's install (kserve/kserve@v0.20.0:hack/kserve-install.sh with hack/setup/infra/
# manage.cert-manager-helm.sh, manage.istio-helm.sh, manage.kserve-helm.sh), versions from
# kserve/kserve@v0.20.0:kserve-deps.env. `kslab up` without --kserve-version installs versions.yaml's default.
KSERVE_020_INSTALLS = [
    ("cert-manager", "jetstack/cert-manager", "cert-manager", "v1.17.0", ["crds.enabled=true"]),
    ("istio-base", "istio/base", "istio-system", "1.27.1", ["defaultRevision=default"]),
    ("istiod", "istio/istiod", "istio-system", "1.27.1",
     ["proxy.autoInject=disabled", "pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true",
      "pilot.podAnnotations.cluster-autoscaler\\.kubernetes\\.io/safe-to-evict=true"]),
    ("istio-ingressgateway", "istio/gateway", "istio-system", "1.27.1",
     ["podAnnotations.cluster-autoscaler\\.kubernetes\\.io/safe-to-evict=true"]),
    ("knative-operator",
     "https://github.com/knative/operator/releases/download/knative-v1.21.1/knative-operator-v1.21.1.tgz",
     "knative-operator", None, []),
    ("kserve-crd", "oci://ghcr.io/kserve/charts/kserve-crd", "kserve", "v0.20.0", []),
    ("kserve-resources", "oci://ghcr.io/kserve/charts/kserve-resources", "kserve", "v0.20.0",
     ["kserve.version=v0.20.0"]),
    ("kserve-runtime-configs", "oci://ghcr.io/kserve/charts/kserve-runtime-configs", "kserve", "v0.20.0",
     ["kserve.servingruntime.enabled=true", "kserve.llmisvcConfigs.enabled=false"]),
]


def test_up_status_rerun_down_on_kind(lab_env, capsys, tmp_path):
    default = pins()
    assert default["kserve"] == "v0.20.0", "KSERVE_020_INSTALLS pins 0.20's install: pass --kserve-version 0.20"
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    summary = json.loads(captured.out)
    assert summary["created"] is True
    assert set(summary["components"].values()) == {"installed"}
    assert list(summary["components"]) == ["cert-manager", "istio", "ingress-class", "knative", "kserve", "runtimes"]

    # kind: kslab's own kubeconfig, a rendered config with the pinned node image (by digest), no host port mapping
    kubeconfig = tmp_path / "state" / "kubeconfigs" / "kind-kslab.yaml"
    [create] = [a for a in lab_env.calls("kind") if a[:2] == ["create", "cluster"]]
    assert create[create.index("--name") + 1] == "kslab"
    assert create[create.index("--kubeconfig") + 1] == str(kubeconfig)
    config = yaml.safe_load(Path(create[create.index("--config") + 1]).read_text())
    assert [n["image"].split("@sha256:")[0] for n in config["nodes"]] == ["kindest/node:v1.34.0"]
    assert "extraPortMappings" not in config["nodes"][0]  # opt-in: kind.ingress_host_port
    assert summary["kubeconfig"] == str(kubeconfig) and summary["context"] == "kind-kslab"

    # helm: the releases, charts, versions and values of KServe 0.20's own install scripts, in dependency order
    installs = helm_installs(lab_env)
    assert sorted(installs) == sorted(KSERVE_020_INSTALLS)
    order = [i[0] for i in installs]
    assert order.index("cert-manager") < order.index("kserve-crd")
    assert order.index("istiod") < order.index("knative-operator") < order.index("kserve-crd")
    assert order.index("kserve-resources") < order.index("kserve-runtime-configs")
    for argv in lab_env.calls("helm"):
        if argv[:2] == ["upgrade", "--install"] and argv[2] != "istio-ingressgateway":
            assert "--wait" in argv  # the gateway's LoadBalancer never gets an address on kind
    cluster = lab_env.cluster
    store = cluster.store
    from tests.fakecluster.resources import by_key
    knative_serving = store.get(by_key("operator.knative.dev/knativeservings"), "knative-serving", "knative-serving")
    assert knative_serving["spec"]["version"] == default["knative_serving"]
    assert knative_serving["spec"]["config"]["domain"] == {"example.com": ""}
    assert store.get(by_key("networking.k8s.io/ingressclasses"), None, "istio")["spec"]["controller"] == \
        "istio.io/ingress-controller"
    gateway = store.get(by_key("/services"), "istio-system", "istio-ingressgateway")
    http2 = next(p for p in gateway["spec"]["ports"] if p["name"] == "http2")
    assert gateway["spec"]["type"] != "NodePort" and http2.get("nodePort") != 31080  # left alone without a mapping
    lab_ns = store.get(by_key("/namespaces"), None, "kserve-test")
    assert lab_ns["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"

    # the run record holds every step with timings
    record = json.loads(Path(summary["run_record"]).read_text())
    assert record["result"] == "ok"
    assert [s["name"] for s in record["steps"]] == ["preflight", "cluster", "kubernetes-version", "stack",
                                                     "lab-namespace", "images"]
    assert all(s["result"] == "ok" and s["duration_s"] >= 0 for s in record["steps"])
    stack_step = record["steps"][3]["observations"]["components"]
    assert {c["name"]: c["expected_version"] for c in stack_step}["kserve"] == default["kserve"]
    assert record["stack"]["kserve"] == default["kserve"] == record["stack"]["components"]["kserve"]
    facts = record["cluster"]  # cluster facts for the report: what the fake kind node reports
    assert (facts["provider"], facts["kubernetes"], facts["nodes"], facts["nodes_ready"]) == \
        ("kind", cluster.kubernetes_version, 1, 1)
    assert facts["allocatable_cpu"] == "8" and facts["kubelet_versions"] == [cluster.kubernetes_version]

    # status: every component Ready at its expected version
    assert run(["status", "-o", "json"]) == ExitCode.OK
    status = json.loads(capsys.readouterr().out)
    assert status["server_version"] == cluster.kubernetes_version
    assert status["kserve_default_deployment_mode"] == "Knative"
    assert all(c["ready"] for c in status["components"]), status["components"]
    versions = {c["name"]: c["version"] for c in status["components"]}
    assert versions == {"cert-manager": default["cert_manager"], "istio": default["istio"], "ingress-class": None,
                        "knative": default["knative_serving"], "kserve": default["kserve"], "runtimes": None}

    # a second up changes nothing
    helm_calls_before = len(lab_env.calls("helm"))
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    assert set(json.loads(captured.out)["components"].values()) == {"already-installed"}
    assert json.loads(captured.out)["created"] is False
    assert [a for a in lab_env.calls("helm")[helm_calls_before:] if a[0] == "upgrade"] == []
    assert len([a for a in lab_env.calls("kind") if a[:2] == ["create", "cluster"]]) == 1

    # another KServe version is an upgrade plan, not an upgrade
    code, captured = up(capsys, "--kserve-version", "0.19.0")
    assert code == ExitCode.CHECK_FAILED
    assert f"upgrade needed, nothing changed: kserve {default['kserve']} installed, v0.19.0 wanted" in captured.err
    assert [a for a in lab_env.calls("helm")[helm_calls_before:] if a[0] == "upgrade"] == []

    # down deletes the cluster kslab made, and only after --yes when not interactive
    assert run(["down"]) == ExitCode.USAGE
    assert "re-run with --yes" in capsys.readouterr().err
    assert run(["down", "--yes"]) == ExitCode.OK
    assert [a[:4] for a in lab_env.calls("kind") if a[:2] == ["delete", "cluster"]] == [
        ["delete", "cluster", "--name", "kslab"]]
    assert not (tmp_path / "state" / "clusters.json").read_text().count("kind/kslab")


def test_up_on_kserve_0_15_uses_that_release_s_install(lab_env, capsys):
    lab_env.cluster.controllers.settings.kserve_version = "0.15.2"
    code, captured = up(capsys, "--kserve-version", "0.15.2")
    assert code == ExitCode.OK, captured.err
    # upstream: the releases and versions of kserve/kserve@v0.15.2:hack/quick_install.sh; the node image is kind
    # v0.27.0's default (kubernetes-sigs/kind@v0.27.0:pkg/apis/config/defaults/image.go)
    installs = {i[0]: i for i in helm_installs(lab_env)}
    assert installs["cert-manager"][3] == "v1.16.1"
    assert installs["istiod"][3] == "1.23.2"
    assert "pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true" not in installs["istiod"][4]
    assert installs["knative-operator"][1:3] == (
        "https://github.com/knative/operator/releases/download/knative-v1.15.7/knative-operator-v1.15.7.tgz",
        "knative-serving")
    assert installs["kserve"] == ("kserve", "oci://ghcr.io/kserve/charts/kserve", "kserve", "v0.15.2",
                                  ["kserve.controller.deploymentMode=Serverless"])
    assert "kserve-resources" not in installs and "kserve-runtime-configs" not in installs
    [kserve_argv] = [a for a in lab_env.calls("helm") if a[:3] == ["upgrade", "--install", "kserve"]]
    assert "--set-string" in kserve_argv
    [create] = [a for a in lab_env.calls("kind") if a[:2] == ["create", "cluster"]]
    config = yaml.safe_load(Path(create[create.index("--config") + 1]).read_text())
    assert config["nodes"][0]["image"].startswith("kindest/node:v1.32.2@sha256:")
    summary = json.loads(captured.out)
    assert "runtimes" not in summary["components"]


def test_standard_mode_installs_no_knative(lab_env, capsys):
    code, captured = up(capsys, "--mode", "standard")
    assert code == ExitCode.OK, captured.err
    installs = {i[0]: i for i in helm_installs(lab_env)}
    assert "knative-operator" not in installs
    assert installs["kserve-resources"][4] == [f"kserve.version={pins()['kserve']}",
                                               "kserve.controller.deploymentMode=Standard"]
    assert list(json.loads(captured.out)["components"]) == ["cert-manager", "istio", "ingress-class", "kserve",
                                                            "runtimes"]


def test_minikube_profile_from_config(lab_env, capsys, tmp_path):
    (tmp_path / "kslab.yaml").write_text("provider: minikube\nminikube:\n  cpus: 6\n  memory_mb: 12288\n")
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    [start] = [a for a in lab_env.calls("minikube") if a and a[0] == "start"]
    assert start == ["start", "-p", "kslab", "--cpus", "6", "--memory", "12288mb", "--driver", "docker",
                     "--kubernetes-version", "v1.34.0"]
    assert json.loads(captured.out)["context"] == "kslab"
    assert not [a for a in lab_env.calls("kind") if a[:2] == ["create", "cluster"]]


@pytest.mark.parametrize(("breakage", "message", "fix"), [
    ("docker-down", "preflight: docker engine: the Docker engine is not reachable", "start Docker"),
    ("no-kind", "preflight: kind installed: kind not found on PATH", "install kind v0.30.0"),
    ("small-docker", "preflight: cpu and memory: the Docker engine has 2 CPUs and 4.0 GiB memory",
     "give the Docker engine at least 4 CPUs and 8 GiB"),
])
def test_preflight_failures_exit_3_with_the_fix(lab_env, capsys, breakage, message, fix):
    if breakage == "docker-down":
        lab_env.set_docker_down()
    elif breakage == "no-kind":
        (lab_env.bin_dir / "kind").unlink()
    else:
        lab_env.set_docker_info(NCPU=2, MemTotal=4 * 2**30)
    code, captured = up(capsys)
    assert code == ExitCode.ENVIRONMENT
    assert message in captured.err
    assert f"hint: {fix}" in captured.err
    assert not [a for a in lab_env.calls("kind") if a[:2] == ["create", "cluster"]]


def test_lab_without_docker_leads_with_the_engine_and_suggests_provider_local(lab_env, capsys, tmp_path):
    """Issue 14: no Docker, no helm, no kind: the first thing named is the Docker engine (nothing runs without it)
    with --provider local as the way on, and the report does not call the failed preflight 'ready'."""
    lab_env.set_docker_down()
    (lab_env.bin_dir / "kind").unlink()
    (lab_env.bin_dir / "helm").unlink()
    code = run(["lab"])
    captured = capsys.readouterr()
    assert code == ExitCode.ENVIRONMENT, captured.err
    error = next(line for line in captured.err.splitlines() if line.startswith("error: "))
    assert error.startswith("error: preflight: docker engine: the Docker engine is not reachable")
    assert "(+2 more: helm installed, kind installed)" in error
    assert "kslab lab --provider local" in next(line for line in captured.err.splitlines() if line.startswith("hint: "))
    [report] = sorted((tmp_path / "reports").glob("*-lab-*/report.md"))
    text = report.read_text()
    assert "| Cluster and stack ready | not reached: preflight failed |" in text, text


def test_transient_api_errors_are_survived(lab_env, capsys):
    rule = lab_env.cluster.faults.fail(r"^/version", statuses=[500, 500])
    code, captured = up(capsys)
    assert code == ExitCode.OK, captured.err
    assert lab_env.cluster.faults.count(rule) >= 2


def test_webhook_without_endpoints_times_out_naming_it(lab_env, capsys, monkeypatch):
    from tests.fakecluster.resources import by_key

    def no_webhook_addresses(op, rt, obj, old):  # the webhook pods never become endpoints
        if rt is by_key("/endpoints") and obj["metadata"]["name"] == "kserve-webhook-server-service":
            obj.pop("subsets", None)
        return obj

    lab_env.cluster.store.admission.append(no_webhook_addresses)
    monkeypatch.setenv("KSLAB_TIMEOUTS__INSTALL", "8")
    code, captured = up(capsys)
    assert code == ExitCode.TIMEOUT
    assert ("timed out after 8s waiting for endpoints/kserve-webhook-server-service -n kserve to be serving"
            in captured.err)
    assert "runtimes: skip not installed: needs kserve" in captured.err


def test_up_refuses_a_kind_cluster_it_did_not_create(lab_env, capsys):
    lab_env.run("kind", "create", "cluster", "--name", "kslab")
    code, captured = up(capsys)
    assert code == ExitCode.USAGE
    assert "a kind cluster named 'kslab' exists but kslab did not create it" in captured.err
    assert run(["down", "--yes"]) == ExitCode.USAGE
    assert "kslab did not create a kind cluster named 'kslab'; nothing deleted" in capsys.readouterr().err
    assert not [a for a in lab_env.calls("kind") if a[:2] == ["delete", "cluster"]]


def test_existing_cluster_is_used_and_down_removes_only_what_kslab_made(lab_env, capsys, tmp_path):
    from tests.fakecluster.resources import by_key

    store = lab_env.cluster.store
    store.create(by_key("/namespaces"), None, {"metadata": {"name": "team-a"}})  # the user's, not kslab's
    kubeconfig = str(lab_env.cluster.kubeconfig_path)
    base = ["--kubeconfig", kubeconfig, "--context", "kind-kslab"]
    code = run([*base, "-o", "json", "up", "--provider", "existing"])
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.err
    assert json.loads(captured.out)["created"] is False
    assert lab_env.calls("kind") == []

    assert run([*base, "down", "--provider", "existing", "--yes"]) == ExitCode.OK
    err = capsys.readouterr().err
    assert "delete namespace kserve-test" in err and "helm uninstall" not in err
    namespaces = {n["metadata"]["name"] for n in store.list(by_key("/namespaces"))[0]}
    assert "kserve-test" not in namespaces
    assert {"team-a", "default", "kserve", "istio-system", "cert-manager"} <= namespaces

    assert run([*base, "down", "--provider", "existing", "--uninstall-stack", "--yes"]) == ExitCode.OK
    err = capsys.readouterr().err
    assert "helm uninstall kserve-runtime-configs -n kserve" in err
    assert err.index("helm uninstall kserve-resources") < err.index("helm uninstall cert-manager")
    uninstalled = [a[1] for a in lab_env.calls("helm") if a[0] == "uninstall"]
    assert uninstalled[0] == "kserve-runtime-configs" and "cert-manager" in uninstalled
    namespaces = {n["metadata"]["name"] for n in store.list(by_key("/namespaces"))[0]}
    assert {"team-a", "default", "kube-system"} <= namespaces
    assert not {"kserve", "istio-system", "cert-manager", "knative-operator"} & namespaces


def test_status_table_and_merge_kubeconfig(lab_env, capsys, tmp_path, monkeypatch):
    user_config = tmp_path / "home-kubeconfig"
    user_config.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "work",
                                           "clusters": [{"name": "work", "cluster": {"server": "https://10.0.0.1"}}],
                                           "users": [{"name": "work", "user": {}}],
                                           "contexts": [{"name": "work", "context": {"cluster": "work",
                                                                                    "user": "work"}}]}))
    monkeypatch.setenv("KUBECONFIG", str(user_config))
    code, captured = up(capsys, "--merge-kubeconfig")
    assert code == ExitCode.OK, captured.err
    merged = yaml.safe_load(user_config.read_text())
    assert merged["current-context"] == "kind-kslab"
    assert {c["name"] for c in merged["contexts"]} == {"work", "kind-kslab"}
    assert oct(user_config.stat().st_mode & 0o777) == "0o600"
    assert run(["--no-color", "status"]) == ExitCode.OK
    out = capsys.readouterr().out
    for text in ("KUBECONFIG", "cert-manager", pins()["cert_manager"], "runtimes",
                 "True", "Knative"):
        assert text in out


def test_doctor_preflight_alone(lab_env, capsys):
    assert run(["-o", "json", "doctor", "--preflight"]) == ExitCode.OK
    rows = json.loads(capsys.readouterr().out)
    assert {r["check"] for r in rows} >= {"kubectl installed", "helm installed", "kind installed", "docker engine",
                                          "cpu and memory"}
    lab_env.set_docker_down()
    assert run(["doctor", "--preflight"]) == ExitCode.ENVIRONMENT
    assert "hint: start Docker" in capsys.readouterr().err


def test_preload_loads_images_into_kind(lab_env, capsys):
    lab_env.add_docker_image("kserve/sklearnserver:v0.20.0")
    code, captured = up(capsys, "--preload", "kserve/sklearnserver:v0.20.0")
    assert code == ExitCode.OK, captured.err
    assert ["load", "docker-image", "kserve/sklearnserver:v0.20.0", "--name", "kslab"] in lab_env.calls("kind")


def test_preload_of_a_missing_image_says_to_pull_it(lab_env, capsys):
    code, captured = up(capsys, "--preload", "kserve/sklearnserver:v0.20.0")
    assert code == ExitCode.CHECK_FAILED
    assert "kind load docker-image kserve/sklearnserver:v0.20.0 failed" in captured.err
    assert "hint: pull it first: docker pull kserve/sklearnserver:v0.20.0" in captured.err
