"""Scenario actions change only what kslab created (issue 13 item 7).

`patch` and `annotate` refuse an InferenceService kslab did not create; `apply` refuses to take over a
same-named object (it used to relabel it kslab's, after which `delete` removed it). The object is left as it
was, byte for byte, and the run fails with the reason.
"""

from __future__ import annotations

import copy

import pytest

from kslab.exitcodes import ExitCode
from tests.deploy_support import Lab, kslab, lab_fixture  # noqa: F401  (fixture registration)

STEPS = {
    "patch": "patch: {resource: isvc, name: sklearn-iris, merge: {spec: {predictor: {minReplicas: 3}}}}",
    "annotate": "annotate: {resource: isvc, name: sklearn-iris, annotations: {team: kslab}}",
    "apply": "apply: {isvc: sklearn-iris}",
}
VERBS = {"patch": "patch", "annotate": "annotate", "apply": "take over"}


def _users_isvc(lab: Lab) -> dict:
    from tests.fakecluster.controllers.lab import sklearn_iris
    from tests.fakecluster.resources import ISVCS

    lab.seed()
    lab.store.create(ISVCS, "kserve-test", sklearn_iris(annotations={"owner": "team-a"}))  # no kslab label
    return copy.deepcopy(lab.isvc())


def _spec_and_meta(isvc: dict | None) -> tuple:
    meta = (isvc or {})["metadata"]
    return (isvc or {})["spec"], meta.get("labels"), meta.get("annotations"), meta.get("generation")


@pytest.mark.parametrize("action", sorted(STEPS))
def test_an_action_refuses_an_object_kslab_did_not_create(lab: Lab, capsys: pytest.CaptureFixture[str],
                                                          action: str) -> None:
    before = _users_isvc(lab)
    (lab.tmp_path / "touch.yaml").write_text(
        f"name: touch\nsteps:\n  - name: touch\n    {STEPS[action]}\n"
        "  - name: remove\n    delete: {resource: isvc, name: sklearn-iris}\n")
    code, _, err = kslab(capsys, "scenario", "run", "touch.yaml")
    assert code == ExitCode.CHECK_FAILED, err
    [entry] = lab.record()["scenarios"]
    assert entry["reason"] == (f'step 1 "touch": inferenceservice.serving.kserve.io/sklearn-iris -n kserve-test was '
                               "not created by kslab (no label app.kubernetes.io/managed-by=kslab); the scenario does "
                               f"not {VERBS[action]} it")
    after = lab.isvc()
    assert after is not None, "the user's InferenceService was deleted"
    assert _spec_and_meta(after) == _spec_and_meta(before)
    assert not any(e.get("manager") == "kslab" for e in after["metadata"].get("managedFields") or [])


def test_patch_of_a_missing_object_says_so(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    lab.seed()
    (lab.tmp_path / "touch.yaml").write_text(f"name: touch\nsteps:\n  - name: touch\n    {STEPS['patch']}\n")
    code, _, err = kslab(capsys, "scenario", "run", "touch.yaml")
    assert code == ExitCode.CHECK_FAILED, err
    [entry] = lab.record()["scenarios"]
    assert entry["reason"] == ('step 1 "touch": inferenceservice.serving.kserve.io/sklearn-iris -n kserve-test does '
                               "not exist, nothing to patch")
    assert lab.isvc() is None


def test_kslab_s_own_object_is_still_applied_patched_annotated_and_deleted(lab: Lab,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    lab.seed()
    (lab.tmp_path / "own.yaml").write_text(
        "name: own\nsteps:\n  - name: make\n    apply: {isvc: sklearn-iris}\n"
        "  - name: again\n    apply: {isvc: sklearn-iris}\n"
        f"  - name: tune\n    {STEPS['patch']}\n  - name: tag\n    {STEPS['annotate']}\n"
        "  - name: check\n    wait: {resource: isvc, name: sklearn-iris, field: metadata.annotations.team, "
        "equals: kslab}\n    timeout: 10s\n"
        "  - name: remove\n    delete: {resource: isvc, name: sklearn-iris}\n")
    code, _, err = kslab(capsys, "scenario", "run", "own.yaml")
    assert code == ExitCode.OK, err
    assert lab.isvc() is None
