"""When waiting for an InferenceService is over, and what the conditions timeline records."""

from __future__ import annotations

import pytest

from kslab.deploy.timeline import ConditionTimeline, outcome


def isvc(*conds: tuple[str, str, str], generation: int = 1, observed: int | None = 1, model: str | None = None):
    status: dict = {"conditions": [{"type": t, "status": s, "reason": r} for t, s, r in conds]}
    if observed is not None:
        status["observedGeneration"] = observed
    if model:
        status["modelStatus"] = {"transitionStatus": model}
    return {"metadata": {"name": "sklearn-iris", "generation": generation}, "status": status}


@pytest.mark.parametrize(("obj", "expected"), [
    (None, None),
    (isvc(("Ready", "True", "")), "ready"),
    (isvc(("Ready", "True", ""), generation=2, observed=1), None),  # a stale Ready from the previous spec
    (isvc(("Ready", "Unknown", "RevisionMissing"), ("PredictorReady", "Unknown", "RevisionMissing")), None),
    # Standard mode while the Deployment rolls out: False, but progressing
    (isvc(("Ready", "False", "Predictor ingress not created"), ("PredictorReady", "False", ""),
          ("IngressReady", "False", "Predictor ingress not created")), None),
    (isvc(("Ready", "False", ""), ("PredictorReady", "False", "MinimumReplicasUnavailable")), None),
    # Knative gave up on the revision; a Deployment past its progress deadline
    (isvc(("Ready", "False", "RevisionMissing"), ("PredictorReady", "False", "RevisionMissing")), "failed"),
    (isvc(("Ready", "False", ""), ("PredictorReady", "False", "ProgressDeadlineExceeded")), "failed"),
    (isvc(("Ready", "Unknown", ""), model="InvalidSpec"), "failed"),
    (isvc(("Ready", "Unknown", ""), model="BlockedByFailedLoad"), "failed"),
    (isvc(("Ready", "Unknown", ""), model="BlockedByFailedLoad", generation=3, observed=2), None),
])
def test_outcome(obj, expected):
    assert outcome(obj) == expected


def test_timeline_records_changes_only_and_tells_the_observer():
    seen = []
    timeline = ConditionTimeline(lambda component, phase, detail: seen.append((component, phase, detail)))
    timeline(None)
    timeline(isvc(("Ready", "Unknown", "RevisionMissing"), ("Stopped", "False", "")))
    timeline(isvc(("Ready", "Unknown", "RevisionMissing"), ("Stopped", "False", "")))  # no change
    timeline(isvc(("Ready", "True", ""), ("Stopped", "False", ""), model="UpToDate"))
    assert [(e["type"], e["status"]) for e in timeline.entries] == [
        ("InferenceService", "absent"), ("Ready", "Unknown"), ("Stopped", "False"), ("Ready", "True"),
        ("ModelStatus", "UpToDate")]
    assert seen[1] == ("Ready", "waiting", "RevisionMissing")
    assert seen[2][:2] == ("Stopped", "ready")  # Stopped=False is the healthy state
    assert seen[3][:2] == ("Ready", "ready") and seen[4][:2] == ("ModelStatus", "ready")
