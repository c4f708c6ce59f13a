"""Simulated install: stack Deployments become Available; the Knative Operator stand-in (facts §2.5, §2.7)."""

from __future__ import annotations

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import deployment_available, find_condition
from tests.fakecluster.controllers.lab import install_and_wait, install_lab_stack, wait_for
from tests.fakecluster.resources import CONFIGMAPS, DEPLOYMENTS, KNATIVE_SERVINGS, SERVICES, by_key

GATEWAYS = by_key("networking.istio.io/gateways")
KNATIVE_DEPLOYMENTS = ("activator", "autoscaler", "controller", "webhook", "net-istio-controller", "net-istio-webhook")


def test_installed_stack_deployments_become_available(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings)
    expected = {"cert-manager": ["cert-manager", "cert-manager-cainjector", "cert-manager-webhook"],
                "istio-system": ["istiod", "istio-ingressgateway"], "knative-operator": ["knative-operator"],
                "knative-serving": list(KNATIVE_DEPLOYMENTS), "kserve": ["kserve-controller-manager"]}
    for ns, names in expected.items():
        for name in names:
            assert deployment_available(store.get(DEPLOYMENTS, ns, name)), f"{ns}/{name}"
    for name in KNATIVE_DEPLOYMENTS:
        dep = store.get(DEPLOYMENTS, "knative-serving", name)
        assert dep["metadata"]["labels"]["app"] == name
        assert dep["metadata"]["ownerReferences"][0]["kind"] == "KnativeServing"


def test_knative_serving_status_configmaps_and_gateways(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings)
    ks = store.get(KNATIVE_SERVINGS, "knative-serving", "knative-serving")
    status = ks["status"]
    assert status["version"] == "1.21.1"
    assert status["observedGeneration"] == ks["metadata"]["generation"]
    for ctype in ("DependenciesInstalled", "DeploymentsAvailable", "InstallSucceeded", "VersionMigrationEligible",
                  "Ready"):
        assert find_condition(ks, ctype)["status"] == "True", ctype
    domain = store.get(CONFIGMAPS, "knative-serving", "config-domain")
    assert domain["data"]["example.com"] == ""
    deployment_cm = store.get(CONFIGMAPS, "knative-serving", "config-deployment")
    assert deployment_cm["data"]["registries-skipping-tag-resolving"] == "nvcr.io,index.docker.io"
    for name in ("config-autoscaler", "config-network", "config-observability", "config-features", "config-istio"):
        assert store.find(CONFIGMAPS, "knative-serving", name) is not None, name
    ingress_gw = store.get(GATEWAYS, "knative-serving", "knative-ingress-gateway")
    local_gw = store.get(GATEWAYS, "knative-serving", "knative-local-gateway")
    assert ingress_gw["spec"]["selector"] == {"istio": "ingressgateway"}
    assert ingress_gw["spec"]["servers"][0]["port"]["number"] == 80
    assert local_gw["spec"]["servers"][0]["port"]["number"] == 8081
    svc = store.get(SERVICES, "istio-system", "knative-local-gateway")
    assert svc["spec"]["ports"][0]["port"] == 80 and svc["spec"]["ports"][0]["targetPort"] == 8081


def test_knative_serving_waits_for_deployments_then_reports_ready(sim_cluster: FakeCluster) -> None:
    settings = sim_cluster.controllers.settings
    settings.time_scale = 4.0  # slow enough to observe the not-ready state
    store = sim_cluster.store
    install_lab_stack(store, settings)

    def not_ready() -> dict | None:
        ks = store.find(KNATIVE_SERVINGS, "knative-serving", "knative-serving")
        cond = find_condition(ks or {}, "DeploymentsAvailable")
        return cond if cond and cond["status"] == "False" else None
    cond = wait_for(not_ready, 3, "DeploymentsAvailable=False")
    assert cond["reason"] == "NotReady" and cond["message"].startswith("Waiting on deployments: ")
    ks = store.get(KNATIVE_SERVINGS, "knative-serving", "knative-serving")
    assert find_condition(ks, "Ready")["status"] == "False"
    wait_for(lambda: find_condition(store.get(KNATIVE_SERVINGS, "knative-serving", "knative-serving"),
                                    "Ready")["status"] == "True", 5, "KnativeServing Ready")


def test_operator_reverts_manual_configmap_edits(sim_cluster: FakeCluster) -> None:
    store = sim_cluster.store
    install_and_wait(store, sim_cluster.controllers.settings, domain=None)
    assert set(store.get(CONFIGMAPS, "knative-serving", "config-domain")["data"]) == {"_example"}
    store.mutate(CONFIGMAPS, "knative-serving", "config-domain", lambda o: o["data"].update({"example.com": ""}))
    wait_for(lambda: "example.com" not in store.get(CONFIGMAPS, "knative-serving", "config-domain")["data"], 2,
             "the operator to revert the manual edit")
    store.mutate(KNATIVE_SERVINGS, "knative-serving", "knative-serving",
                 lambda o: o["spec"]["config"].update(domain={"example.com": ""}))
    wait_for(lambda: "example.com" in store.get(CONFIGMAPS, "knative-serving", "config-domain")["data"], 2,
             "spec.config.domain to reach config-domain")
