"""The fake's Knative stand-ins report a stuck gateway, a missing net-istio and an OOM kill as Knative 1.21 does.

- Route IngressReady copies the KIngress's Ready condition, and is IngressNotConfigured only when the KIngress
  has none (knative/serving@knative-v1.21.1 pkg/apis/serving/v1/route_lifecycle.go); a KIngress whose gateway
  fails net-istio's probes is Unknown/Uninitialized "Waiting for load balancer to be ready" (knative/networking
  pkg/apis/networking/v1alpha1/ingress_lifecycle.go). The ksvc and the ISVC copy the Route's condition.
- A user container that terminated makes the Revision ContainerHealthy/Ready False with reason ExitCode<code>
  and message "Container failed with: <message>" (knative/serving@knative-v1.21.1
  pkg/reconciler/revision/reconcile_resources.go, pkg/apis/serving/v1/revision_lifecycle.go); an OOM kill is
  exit code 137 with lastState.terminated.reason OOMKilled on the pod.
"""

from __future__ import annotations

from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.controllers.common import find_condition
from tests.fakecluster.controllers.lab import install_and_wait, sklearn_iris, wait_for
from tests.fakecluster.resources import ISVCS, KSVCS, PODS, REVISIONS, ROUTES

NS, NAME = "kserve-test", "sklearn-iris"
KSVC = "sklearn-iris-predictor"
GATEWAY = ("Unknown", "Uninitialized", "Waiting for load balancer to be ready")
NOT_CONFIGURED = ("Unknown", "IngressNotConfigured", "Ingress has not yet been reconciled.")


def _cond(obj: dict | None, ctype: str) -> tuple[str, str, str] | None:
    cond = find_condition(obj or {}, ctype)
    return (cond["status"], cond.get("reason", ""), cond.get("message", "")) if cond else None


def _isvc_with(cluster: FakeCluster, ctype: str, reason: str) -> dict:
    return wait_for(lambda: (o := cluster.store.find(ISVCS, NS, NAME)) and (_cond(o, ctype) or ("", "", ""))[1]
                    == reason and o, 5, f"{ctype} reason {reason}")


def _ready(cluster: FakeCluster) -> dict:
    return wait_for(lambda: (o := cluster.store.find(ISVCS, NS, NAME)) and (_cond(o, "Ready") or ("",))[0] == "True"
                    and o, 5, "Ready=True")


def test_a_gateway_that_fails_the_probes_is_uninitialized_on_route_ksvc_and_isvc(sim_cluster: FakeCluster) -> None:
    store, knobs = sim_cluster.store, sim_cluster.controllers.settings
    install_and_wait(store, knobs, lean=True)
    knobs.ingress_ready = False
    store.create(ISVCS, NS, sklearn_iris())
    isvc = _isvc_with(sim_cluster, "PredictorReady", "Uninitialized")
    assert _cond(store.get(ROUTES, NS, KSVC), "IngressReady") == GATEWAY
    ksvc = store.get(KSVCS, NS, KSVC)
    assert _cond(ksvc, "RoutesReady") == GATEWAY and _cond(ksvc, "Ready") == GATEWAY
    assert _cond(isvc, "PredictorReady") == GATEWAY and _cond(isvc, "PredictorRouteReady") == GATEWAY
    assert all("IngressNotConfigured" not in str(c) for c in isvc["status"]["conditions"])
    knobs.ingress_ready = None
    sim_cluster.controllers.resync()
    _ready(sim_cluster)


def test_without_net_istio_the_route_says_ingress_not_configured(sim_cluster: FakeCluster) -> None:
    store, knobs = sim_cluster.store, sim_cluster.controllers.settings
    install_and_wait(store, knobs, lean=True)
    knobs.net_istio_running = False
    store.create(ISVCS, NS, sklearn_iris())
    isvc = _isvc_with(sim_cluster, "PredictorReady", "IngressNotConfigured")
    assert _cond(store.get(ROUTES, NS, KSVC), "IngressReady") == NOT_CONFIGURED
    assert _cond(store.get(KSVCS, NS, KSVC), "Ready") == NOT_CONFIGURED
    assert _cond(isvc, "PredictorRouteReady") == NOT_CONFIGURED
    knobs.net_istio_running = None
    sim_cluster.controllers.resync()
    _ready(sim_cluster)


def test_an_oom_killed_model_server_shows_on_the_pod_and_as_exit_code_137_on_the_revision(
        sim_cluster: FakeCluster) -> None:
    store, knobs = sim_cluster.store, sim_cluster.controllers.settings
    install_and_wait(store, knobs, lean=True)
    knobs.oom_memory_needed = "2Gi"  # sklearn_iris() limits the model server to 1Gi
    store.create(ISVCS, NS, sklearn_iris())
    revision = wait_for(lambda: (r := store.find(REVISIONS, NS, f"{KSVC}-00001")) and _cond(r, "Ready") and
                        _cond(r, "Ready")[0] == "False" and r, 5, "Revision Ready=False")
    failed = ("False", "ExitCode137", "Container failed with: ")
    assert _cond(revision, "Ready") == failed and _cond(revision, "ContainerHealthy") == failed
    [pod] = store.list(PODS, NS, label_selector=f"serving.kserve.io/inferenceservice={NAME}")[0]
    [status] = [c for c in pod["status"]["containerStatuses"] if c["name"] == "kserve-container"]
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert status["lastState"]["terminated"]["exitCode"] == 137
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff" and status["ready"] is False
    assert find_condition(pod, "Ready")["status"] == "False"
    isvc = wait_for(lambda: (o := store.find(ISVCS, NS, NAME)) and "Container failed with: " in
                    (_cond(o, "PredictorConfigurationReady") or ("", "", ""))[2] and o, 5, "the ISVC's copy")
    assert all(c.get("reason") != "ExitCode137" for c in isvc["status"]["conditions"])  # only the Revision has it
    assert _cond(isvc, "Ready")[0] == "False"


def test_a_model_server_within_its_limit_is_not_killed(sim_cluster: FakeCluster) -> None:
    store, knobs = sim_cluster.store, sim_cluster.controllers.settings
    install_and_wait(store, knobs, lean=True)
    knobs.oom_memory_needed = "512Mi"
    store.create(ISVCS, NS, sklearn_iris())
    _ready(sim_cluster)
    [pod] = store.list(PODS, NS, label_selector=f"serving.kserve.io/inferenceservice={NAME}")[0]
    assert all(not c.get("lastState") for c in pod["status"]["containerStatuses"])
