"""`kslab doctor NAME` against every failure mode the fake cluster can simulate: the right layer and fix.

Each case breaks the fake cluster the way the facts file (§8) says a real one breaks, deploys past kslab's
own lint (as a user with plain kubectl would), then runs `kslab -o json doctor` and checks the last
(failing) layer it reports and the fix it prints. The table in the issue's closing note is this list.
"""

from __future__ import annotations

import json

import pytest

from kslab.exitcodes import ExitCode
from tests.deploy_support import MISSING_URI, NAME, kslab, lab_fixture  # noqa: F401
from tests.fakecluster.resources import ENDPOINTS


def _starve_node(lab) -> None:
    lab.set_node_cpu(f"{lab.used_cpu_millis() + 50}m")


def _no_ingress(lab) -> None:
    lab.knobs.ingress_ready = False


def _no_net_istio(lab) -> None:
    lab.knobs.net_istio_running = False


def _model_needs_more_memory(lab) -> None:
    lab.knobs.oom_memory_needed = "1Gi"  # manifests/isvc/inferenceservice.yaml limits it to 512Mi


def _failing_storage(lab) -> None:
    lab.knobs.failing_storage_uris = {MISSING_URI}


def _short_progress_deadline(lab) -> None:
    lab.knobs.progress_deadline = 0.3
    _starve_node(lab)


def _webhook_down(lab) -> None:
    lab.knobs.webhook_ready = False
    lab.store.admission.append(_drop_webhook_addresses)
    lab.store.mutate(ENDPOINTS, "kserve", "kserve-webhook-server-service", lambda o: o.pop("subsets", None))


def _drop_webhook_addresses(op, rt, obj, old):
    if rt is ENDPOINTS and obj["metadata"]["name"] == "kserve-webhook-server-service":
        obj.pop("subsets", None)
    return obj


def _runtime_image_not_loaded(lab) -> None:
    """A ServingRuntime of a locally built image that nobody loaded onto the node (no registry serves it)."""
    from tests.fakecluster.controllers.kserve_runtimes import shipped_runtimes
    from tests.fakecluster.resources import SERVING_RUNTIMES

    [sklearn] = [r for r in shipped_runtimes(lab.knobs) if r["metadata"]["name"] == "kserve-sklearnserver"]
    sklearn["spec"]["containers"][0]["image"] = "kslab/sklearnserver:dev"
    lab.store.create(SERVING_RUNTIMES, "kserve-test", {**sklearn, "kind": SERVING_RUNTIMES.kind,
                                                       "metadata": {"name": "kslab-sklearn"}})


def _api_down(lab) -> None:
    lab.cluster.stop()


# (failure, seed, break-it, deploy args, expected layer, a fragment of the printed fix)
CASES = [
    ("no InferenceService", {}, None, None, "InferenceService", f"kslab deploy {NAME}"),
    ("explicit runtime missing (RuntimeNotRecognized)", {}, None, ["--runtime", "kserve-nosuch"],
     "KServe runtimes", "--runtime NAME"),
    ("no ClusterServingRuntimes (NoSupportingRuntime)", {"runtimes": False}, None, ["--runtime", "auto"],
     "stack: runtimes", "kslab up"),
    ("runtime lacks the protocol (mlserver + v1)", {}, None, ["--runtime", "kserve-mlserver", "--protocol", "v1"],
     "KServe runtimes", "--protocol v2"),
    ("storage-initializer cannot fetch the model", {}, _failing_storage, ["--storage-uri", MISSING_URI],
     "storage / egress", "--storage-uri"),
    ("node too small (Insufficient cpu)", {}, _starve_node, [], "scheduling", "more CPU and memory"),
    ("revision never starts (ProgressDeadlineExceeded)", {}, _short_progress_deadline, [], "scheduling",
     "more CPU and memory"),
    ("Knative not installed (ServerlessModeRejected)", {"knative": False}, None, [], "stack: knative", "kslab up"),
    ("gateway not ready (Uninitialized: Waiting for load balancer)", {}, _no_ingress, [], "Istio gateway",
     "kubectl get pods -n istio-system -l istio=ingressgateway"),
    ("net-istio not running (IngressNotConfigured)", {}, _no_net_istio, [], "Knative net-istio",
     "kubectl get pods -n knative-serving -l app=net-istio-controller"),
    ("model server OOMKilled (Revision ExitCode137)", {}, _model_needs_more_memory, [], "resources",
     "raise limits.memory"),
    ("KServe webhook has no endpoints", {}, _webhook_down, [], "stack: kserve", "kslab up"),
    ("runtime image not on the node (ImagePullBackOff)", {}, _runtime_image_not_loaded,
     ["--runtime", "kslab-sklearn", "--mode", "standard"], "image pull", "kind load docker-image IMAGE --name kslab"),
    ("API server unreachable", {}, _api_down, None, "API server", "kubeconfig"),
]


@pytest.mark.parametrize(("failure", "seed", "breaker", "args", "layer", "fix"), CASES, ids=[c[0] for c in CASES])
def test_doctor_names_the_broken_layer_and_the_fix(lab, capsys, failure, seed, breaker, args, layer, fix):
    lab.seed(**{"lean": False, **seed})
    if breaker is not None:
        breaker(lab)
    if args is not None:
        code, _, err = kslab(capsys, "deploy", NAME, "--skip-lint", "--timeout", "1.5", *args)
        assert code != ExitCode.OK, err
    code, out, err = kslab(capsys, "-o", "json", "doctor", NAME)
    layers = json.loads(out)
    print(f"| {failure} | {layers[-1]['layer']} | {layers[-1].get('fix')} | exit {code} |")
    assert code == ExitCode.CHECK_FAILED, err
    assert [c["ok"] for c in layers[:-1]] == [True] * (len(layers) - 1)  # it stops at the first broken layer
    assert layers[-1]["ok"] is False and layers[-1]["layer"] == layer, layers[-1]
    assert fix in (layers[-1].get("fix") or ""), layers[-1]
    assert f"hint: {layers[-1]['fix']}".splitlines()[0] in err
