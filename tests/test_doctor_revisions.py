"""The doctor reads the ISVC's Knative Revisions: the reason of a crash (ExitCode137) is only there.

knative/serving@knative-v1.21.1 pkg/reconciler/revision/reconcile_resources.go puts ExitCode<n> on the Revision;
the Configuration, the ksvc and the InferenceService copy only the message.
"""

from __future__ import annotations

from typing import Any

from kslab.doctor.isvc import revision_evidence
from kslab.doctor.signatures import diagnose
from kslab.errors import KslabError
from kslab.kube import resources as R


class _Kube:
    def __init__(self, revisions: list[dict[str, Any]] | None) -> None:
        self.revisions = revisions
        self.asked: list[tuple[str, str | None, str | None]] = []

    def list(self, ref: Any, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[dict[str, Any]], str]:
        self.asked.append((ref.plural, namespace, label_selector))
        if self.revisions is None:
            raise KslabError('the server doesn\'t have a resource type "revisions"')
        return self.revisions, "1"


def _revision(name: str, created: str, *conditions: tuple[str, str, str, str]) -> dict[str, Any]:
    return {"metadata": {"name": name, "creationTimestamp": created},
            "status": {"conditions": [{"type": t, "status": s, "reason": r, "message": m}
                                      for t, s, r, m in conditions]}}


def test_revision_conditions_become_evidence_newest_first_and_name_the_oom():
    kube = _Kube([
        _revision("iris-predictor-00001", "2025-01-01T00:00:00Z", ("Ready", "True", "", "")),
        _revision("iris-predictor-00002", "2025-01-02T00:00:00Z",
                  ("Active", "False", "NoTraffic", "The target is not receiving traffic."),
                  ("ContainerHealthy", "False", "ExitCode137", "Container failed with: "),
                  ("Ready", "False", "ExitCode137", "Container failed with: ")),
    ])
    evidence = revision_evidence(kube, "iris", "ns")  # type: ignore[arg-type]
    assert kube.asked == [(R.KNATIVE_REVISION.plural, "ns", "serving.kserve.io/inferenceservice=iris")]
    assert [(e.source, e.reason, e.where) for e in evidence] == [
        ("revision", "ExitCode137", "Revision/iris-predictor-00002")] * 2  # Active=False/NoTraffic is healthy
    assert evidence[1].text == "Revision iris-predictor-00002 Ready=False ExitCode137: Container failed with:"
    [finding] = diagnose(evidence, {"name": "iris", "namespace": "ns"})
    assert (finding.id, finding.layer) == ("out-of-memory", "resources")
    assert "manifests/isvc/inferenceservice.yaml" in finding.fix


def test_no_revisions_api_means_no_revision_evidence():
    assert revision_evidence(_Kube(None), "iris", "ns") == []  # type: ignore[arg-type]
