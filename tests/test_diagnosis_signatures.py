"""manifests/diagnosis/signatures.yaml: loads, and maps evidence to the layer facts §8 names."""

from __future__ import annotations

from pathlib import Path

import pytest

from kslab.doctor.signatures import Evidence, diagnose, load_signatures
from kslab.errors import ConfigError

VALUES = {"name": "sklearn-iris", "namespace": "kserve-test"}
UNSCHEDULABLE = "Pending Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."
FETCH = "RuntimeError: Failed to fetch model. The path or model gs://b/m does not exist."


def first(*evidence: Evidence) -> tuple[str, str, str]:
    findings = diagnose(list(evidence), VALUES)
    assert findings, "no signature matched"
    return findings[0].id, findings[0].layer, findings[0].evidence.text


def test_the_file_loads_with_unique_ids():
    signatures = load_signatures()
    ids = [s.id for s in signatures]
    assert len(ids) == len(set(ids)) >= 20
    assert all(s.layer and s.explanation and s.fix and s.match for s in signatures)


@pytest.mark.parametrize(("evidence", "expected_id", "layer"), [
    ([Evidence("api", 'Internal error occurred: failed calling webhook "inferenceservice.kserve-webhook-server.'
               'defaulter": ... no endpoints available for service "kserve-webhook-server-service"')],
     "webhook-not-ready", "KServe controller/webhook"),
    ([Evidence("event", "ServerlessModeRejected: It is not possible to use Knative deployment mode when Knative "
               "Services are not available", "ServerlessModeRejected")],
     "serverless-mode-rejected", "deployment mode config"),
    ([Evidence("model", "RuntimeNotRecognized: Waiting for runtime to become available", "RuntimeNotRecognized")],
     "runtime-not-recognized", "KServe runtimes"),
    ([Evidence("model", "NoSupportingRuntime: Specified runtime does not support specified protocol version",
               "NoSupportingRuntime")], "runtime-protocol-unsupported", "KServe runtimes"),
    ([Evidence("model", "NoSupportingRuntime: No runtime found to support specified framework/version",
               "NoSupportingRuntime")], "no-supporting-runtime", "KServe runtimes"),
    # the pod's scheduling failure explains the symptom in the conditions (RevisionMissing)
    ([Evidence("condition", "PredictorReady=Unknown RevisionMissing: Configuration ...", "RevisionMissing"),
      Evidence("pod", UNSCHEDULABLE, "Unschedulable", "pod p")], "insufficient-resources", "scheduling"),
    # Knative 1.21: a gateway failing net-istio's probes is Uninitialized; IngressNotConfigured means no net-istio
    ([Evidence("condition", "PredictorReady=Unknown Uninitialized: Waiting for load balancer to be ready",
               "Uninitialized")], "gateway-not-ready", "Istio gateway"),
    ([Evidence("condition", "RoutesReady=Unknown Uninitialized: Waiting for load balancer to be ready",
               "Uninitialized")], "gateway-not-ready", "Istio gateway"),
    ([Evidence("condition", "PredictorReady=Unknown IngressNotConfigured: Ingress has not yet been reconciled.",
               "IngressNotConfigured")], "net-istio-not-running", "Knative net-istio"),
    ([Evidence("url", "http://sklearn-iris.kserve-test.svc.cluster.local")], "cluster-local-domain",
     "Knative domain"),
    ([Evidence("pod", "kserve-container ImagePullBackOff: Back-off pulling image", "ImagePullBackOff", "pod p/k")],
     "image-pull", "image pull"),
    ([Evidence("pod", "kserve-container last terminated: OOMKilled (exit code 137)", "OOMKilled", "pod p/k")],
     "out-of-memory", "resources"),
    # the reason is on the Revision only; KServe also reports the crash as ModelLoadFailed, which is not storage
    ([Evidence("condition", 'PredictorConfigurationReady=False RevisionFailed: Revision "r" failed with message: '
               "Container failed with: .", "RevisionFailed"),
      Evidence("revision", "Revision r Ready=False ExitCode137: Container failed with:", "ExitCode137", "Revision/r"),
      Evidence("model", "ModelLoadFailed: ", "ModelLoadFailed")], "out-of-memory", "resources"),
])
def test_evidence_maps_to_its_layer(evidence, expected_id, layer):
    assert first(*evidence)[:2] == (expected_id, layer)


def test_the_storage_failure_quotes_the_log_line_not_the_traceback_source():
    evidence = [Evidence("pod", "storage-initializer Init:CrashLoopBackOff: back-off", "CrashLoopBackOff",
                         "pod p/storage-initializer"),
                Evidence("log", FETCH, "", "pod p/storage-initializer"),  # newest line first
                Evidence("log", 'raise RuntimeError("Failed to fetch model. The path or model %s does not exist." '
                         '% uri)', "", "pod p/storage-initializer")]
    assert first(*evidence) == ("storage-fetch-failed", "storage / egress", FETCH)
    ids = [f.id for f in diagnose(evidence, VALUES)]
    assert ids == ["storage-fetch-failed", "storage-initializer-crash"]


def test_a_log_line_of_another_container_is_not_a_storage_failure():
    evidence = [Evidence("log", FETCH, "", "pod p/kserve-container")]
    assert [f.id for f in diagnose(evidence, VALUES)] == []


def test_exit_code_137_in_an_isvc_condition_message_is_not_taken_for_the_revision_reason():
    evidence = [Evidence("condition", "PredictorReady=False RevisionFailed: ... ExitCode137", "RevisionFailed")]
    assert "out-of-memory" not in [f.id for f in diagnose(evidence, VALUES)]


def test_fix_text_is_filled_with_the_name():
    [finding] = diagnose([Evidence("pod", "x CrashLoopBackOff", "CrashLoopBackOff", "pod p/kserve-container")],
                         VALUES)
    assert "-l serving.kserve.io/inferenceservice=sklearn-iris -c kserve-container" in finding.fix


def test_a_malformed_signature_is_reported_with_its_id(tmp_path: Path):
    path = tmp_path / "signatures.yaml"
    path.write_text("signatures:\n  - {id: x, layer: l, explanation: e, fix: f, match: [{source: nowhere, "
                    "reason: R}]}\n")
    with pytest.raises(ConfigError) as err:
        load_signatures(path)
    assert "signature x" in err.value.message and "source one of api" in err.value.message
