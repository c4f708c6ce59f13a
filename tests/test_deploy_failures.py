"""Each failure mode of the simulated cluster gives the right layer and exit code (facts §8).

Lint failures stop before anything is applied (exit 2, 3 when KServe itself is missing); --skip-lint lets
the same mistakes reach KServe, whose verdict is diagnosed: a failure KServe reports ends the wait at once
(exit 1), a pod that never starts runs into the timeout (exit 4).
"""

from __future__ import annotations

import pytest

from kslab.exitcodes import ExitCode
from tests.deploy_support import MISSING_URI, NAME, kslab, lab_fixture  # noqa: F401


def lint_fails(lab, capsys, *args) -> str:
    code, _, err = kslab(capsys, "deploy", NAME, *args)
    assert code == ExitCode.USAGE, err
    assert lab.isvc() is None  # nothing applied
    step = {s["name"]: s for s in lab.record()["steps"]}["lint"]
    assert step["result"] == "failed"
    return err


def starve_node(lab) -> None:
    """Leave 50m CPU free: less than the 100m predictor + 25m queue-proxy need."""
    lab.set_node_cpu(f"{lab.used_cpu_millis() + 50}m")


@pytest.mark.parametrize(("seed", "args", "message", "fix"), [
    ({}, ["--runtime", "kserve-nosuch"], "runtime kserve-nosuch does not exist (no ServingRuntime in kserve-test, "
     "no ClusterServingRuntime): KServe would wait forever with RuntimeNotRecognized", "kserve-sklearnserver"),
    ({}, ["--runtime", "kserve-mlserver", "--protocol", "v1"], "ClusterServingRuntime kserve-mlserver does not "
     "support protocol v1 (only v2)", "use --protocol v2"),
    ({}, ["--runtime", "kserve-xgbserver"], "kserve-xgbserver does not serve model format sklearn", "--runtime"),
    ({"runtimes": False}, ["--runtime", "auto"], "no installed runtime auto-selects sklearn over v1: KServe would "
     "report NoSupportingRuntime", "install KServe's runtimes"),
    ({"knative": False}, [], "Knative Serving is not installed: KServe would reject a Knative-mode "
     "InferenceService (ServerlessModeRejected)", "--mode standard"),
])
def test_lint_rejects_what_kserve_would_refuse(lab, capsys, seed, args, message, fix):
    lab.seed(**seed)
    err = lint_fails(lab, capsys, *args)
    assert message in err
    assert "hint:" in err and fix in err.split("hint:")[1]


def test_lint_checks_the_mode_name_against_the_installed_kserve(lab, capsys):
    lab.knobs.kserve_version = "0.15.2"  # the cluster runs 0.15; kslab is configured for 0.20
    lab.seed()
    err = lint_fails(lab, capsys)
    assert "deployment mode 'Knative' is not known to the installed KServe v0.15.2 (it accepts RawDeployment, " \
           "Serverless)" in err
    assert 'set kserve_version: "0.15"' in err


def test_lint_rejects_a_predictor_that_does_not_fit_the_node(lab, capsys):
    lab.seed()
    starve_node(lab)
    err = lint_fails(lab, capsys)
    assert "125m CPU / 256Mi per predictor pod x 1 does not fit" in err
    assert "Insufficient cpu" in err


def test_missing_kserve_is_an_environment_error(lab, capsys):
    from tests.fakecluster.controllers.lab import ensure_namespace, install_lab_stack

    install_lab_stack(lab.store, lab.knobs, kserve=False, lean=True)
    ensure_namespace(lab.store, "kserve-test")
    code, _, err = kslab(capsys, "deploy", NAME)
    assert code == ExitCode.ENVIRONMENT
    assert "KServe is not installed" in err and "hint: install the stack: kslab up" in err


def test_lint_failures_have_a_run_record_with_every_check(lab, capsys):
    lab.seed(runtimes=False)
    lint_fails(lab, capsys)
    record = lab.record()
    assert record["result"] == "failed"
    checks = {c["check"]: c for c in record["steps"][1]["observations"]["checks"]}
    assert checks["runtime"]["ok"] is False and checks["resources"]["ok"] is True


# -- past the lint: KServe's own verdict, diagnosed ------------------------------------------------
@pytest.mark.parametrize(("seed", "args", "layer", "evidence"), [
    ({}, ["--runtime", "kserve-nosuch"], "KServe runtimes",
     '"RuntimeNotRecognized: Waiting for runtime to become available"'),
    ({"runtimes": False}, ["--runtime", "auto"], "KServe runtimes",
     '"NoSupportingRuntime: No runtime found to support specified framework/version"'),
    ({}, ["--runtime", "kserve-mlserver", "--protocol", "v1"], "KServe runtimes",
     '"NoSupportingRuntime: Specified runtime does not support specified protocol version"'),
])
def test_runtime_failures_end_the_wait_at_once(lab, capsys, seed, args, layer, evidence):
    lab.seed(**seed)
    code, _, err = kslab(capsys, "deploy", NAME, "--skip-lint", "--timeout", "20", *args)
    assert code == ExitCode.CHECK_FAILED, err
    assert f"stuck at {layer}:" in err and evidence in err
    record = lab.record()
    assert record["diagnosis"]["layer"] == layer
    assert record["steps"][-1]["duration_s"] < 10  # KServe said InvalidSpec: no need to sit out the timeout


def test_storage_initializer_crash_quotes_its_log(lab, capsys):
    lab.knobs.failing_storage_uris = {MISSING_URI}
    lab.seed()
    code, _, err = kslab(capsys, "deploy", NAME, "--storage-uri", MISSING_URI, "--timeout", "20")
    assert code == ExitCode.CHECK_FAILED, err
    assert "failed (modelStatus BlockedByFailedLoad)" in err
    line = f"RuntimeError: Failed to fetch model. The path or model {MISSING_URI} does not exist."
    assert "stuck at storage / egress: the storage-initializer could not download the model" in err
    assert f'"{line}"' in err and "/storage-initializer)" in err
    assert "hint: check the URI (--storage-uri)" in err
    diagnosis = lab.record()["diagnosis"]
    assert diagnosis["findings"][0]["evidence"]["text"] == line
    assert "storage-initializer-crash" in [f["id"] for f in diagnosis["findings"]]


def test_pending_pod_times_out_at_the_scheduling_layer(lab, capsys):
    lab.seed()
    starve_node(lab)
    code, _, err = kslab(capsys, "deploy", NAME, "--skip-lint", "--timeout", "1.5")
    assert code == ExitCode.TIMEOUT, err
    assert "InferenceService kserve-test/sklearn-iris not Ready after 1.5s; stuck at scheduling:" in err
    assert "1 Insufficient cpu" in err
    record = lab.record()
    assert record["steps"][1]["result"] == "skipped"
    assert record["steps"][-1]["observations"]["timeline"]  # what was seen before giving up
    assert any(e["source"] == "event" and e["reason"] == "FailedScheduling" for e in record["diagnosis"]["evidence"])


def test_ready_false_is_a_failure_not_a_timeout(lab, capsys):
    lab.knobs.progress_deadline = 0.3  # Knative gives up on the revision: Ready=False (RevisionFailed)
    lab.seed()
    starve_node(lab)
    code, _, err = kslab(capsys, "deploy", NAME, "--skip-lint", "--timeout", "20")
    assert code == ExitCode.CHECK_FAILED, err
    assert "failed (Ready=False" in err and "stuck at scheduling" in err


def test_webhook_not_ready_is_retried_then_named(lab, capsys):
    lab.seed()
    lab.knobs.webhook_ready = False
    code, _, err = kslab(capsys, "deploy", NAME)
    assert code == ExitCode.CHECK_FAILED, err
    assert "the API server refused InferenceService kserve-test/sklearn-iris (500 InternalError)" in err
    assert "stuck at KServe controller/webhook" in err
    assert 'no endpoints available for service "kserve-webhook-server-service"' in err  # quoted evidence
    assert "hint: wait until Deployment kserve/kserve-controller-manager is Available" in err
    applies = lab.cluster.server.requests("PATCH", "/inferenceservices/sklearn-iris")
    assert len(applies) == 5  # kslab.kube retried the 500 before giving up


def test_a_mode_change_is_caught_by_lint_and_named_when_kserve_refuses_it(lab, capsys):
    lab.seed()
    assert kslab(capsys, "deploy", NAME)[0] == ExitCode.OK
    code, _, err = kslab(capsys, "deploy", NAME, "--mode", "standard")
    assert code == ExitCode.USAGE
    assert "InferenceService sklearn-iris runs in Knative mode; KServe rejects a deployment-mode change" in err
    assert "hint: remove it first: kslab undeploy sklearn-iris" in err
    code, _, err = kslab(capsys, "deploy", NAME, "--mode", "standard", "--skip-lint")
    assert code == ExitCode.CHECK_FAILED  # the validating webhook's 403 is not retried
    assert "(403 Forbidden); stuck at KServe webhook (deployment mode):" in err
    assert "update rejected: deploymentMode cannot be changed from 'Knative' to 'Standard'" in err


@pytest.mark.parametrize(("seed", "knob", "layer", "evidence"), [
    ({"knative": False}, {}, "deployment mode config", "ServerlessModeRejected: It is not possible to use Knative "
     "deployment mode when Knative Services are not available"),
    ({}, {"ingress_ready": False}, "Istio gateway", "Uninitialized: Waiting for load balancer to be ready"),
    ({}, {"net_istio_running": False}, "Knative net-istio", "IngressNotConfigured"),
])
def test_stuck_routing_and_mode_time_out_naming_the_layer(lab, capsys, seed, knob, layer, evidence):
    lab.seed(**seed)
    for key, value in knob.items():
        setattr(lab.knobs, key, value)
    code, _, err = kslab(capsys, "deploy", NAME, "--skip-lint", "--timeout", "1")
    assert code == ExitCode.TIMEOUT, err
    assert f"stuck at {layer}:" in err and evidence in err
