"""The canary scenarios end to end on the fake cluster: real runtimes behind the harness router.

`kslab scenario run canary` deploys v1, rolls model v2 out at 10 % and 50 %, promotes it, and measures
the split from the pods' own request counters. It must pass on a faithful cluster, and fail with the
right reason when the router skews the split or the v2 revision never becomes ready.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy_support import Lab, kslab
from tests.fakecluster.resources import ISVCS
from tests.scenario_harness.fixture import (  # noqa: F401  (fixtures)
    MODEL2_URIS,
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

REV1, REV2 = "sklearn-iris-predictor-00001", "sklearn-iris-predictor-00002"
FAST = ("--set", "requests=200", "--set", "ready_timeout=30s")


def run(harness: ScenarioLab, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, dict[str, Any]]:
    code, out, err = harness.kslab(capsys, "scenario", "run", *argv)
    [entry] = harness.lab.record()["scenarios"]
    return code, out + err, entry


def step(entry: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [s for s in entry["steps"] if s["name"] == name]
    return found


def test_canary_passes_with_the_measured_split(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    code, output, entry = run(scenario_lab, capsys, "canary", *FAST, "--set", "tag_routing=true", "-o", "json")
    assert code == 0, (entry["reason"], output)
    assert entry["verdict"] == "passed" and entry["reason"] is None
    canary = step(entry, "split at canary percent")["observations"]
    assert canary["configured"] == {REV1: 90, REV2: 10}
    assert canary["total"] == 200 and canary["within_tolerance"] is True
    assert abs(canary["revisions"][REV2]["observed_percent"] - 10) <= canary["tolerance_points"]
    middle = step(entry, "split at middle percent")["observations"]
    assert middle["configured"] == {REV1: 50, REV2: 50} and middle["within_tolerance"] is True
    promoted = step(entry, "split after promotion")["observations"]
    assert promoted["revisions"][REV2]["observed_percent"] == 100.0
    assert step(entry, "revision 2 rolled out")["result"] == "ok"
    tagged = step(entry, "tagged canary host answers")  # the tag came with the v2 change: still revision 2
    assert tagged["result"] == "ok" and tagged["observations"]["ok"] is True
    assert "(Host: latest-sklearn-iris-predictor.kserve-test.example.com)" in tagged["observations"]["endpoint"]
    assert step(entry, "canary v2")["inputs"]["apply"]["annotations"] == {
        "serving.kserve.io/enable-tag-routing": True}
    assert all(a["ok"] for a in entry["assertions"]) and len(entry["assertions"]) == 7
    assert [t["targets"] for t in entry["timelines"]["traffic"]][-1][0]["revisionName"] == REV2
    assert step(entry, "v2 answers")["observations"]["ok"] is True
    assert entry["diagnosis"] is None
    record = scenario_lab.lab.record()
    assert record["result"] == "ok" and record["steps"][-1]["name"] == "scenario:canary"
    isvc = scenario_lab.lab.isvc()
    assert isvc["status"]["components"]["predictor"]["latestRolledoutRevision"] == REV2


def test_canary_fails_when_the_split_is_skewed(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> None:
    scenario_lab.split_skew_points = 30
    code, output, entry = run(scenario_lab, capsys, "canary", *FAST)
    assert code == 1
    assert entry["verdict"] == "failed"
    assert entry["reason"].startswith('step 10 "canary split within tolerance": measured canary percent: '
                                      'expected 10 ± ')
    failed = [a for a in entry["assertions"] if not a["ok"]]
    assert failed[0]["name"] == "measured canary percent" and failed[0]["observed"] >= 30
    assert not [s for s in entry["steps"] if s["name"] == "canary at middle percent"]  # stopped at the failure
    assert step(entry, "evidence")["phase"] == "catch"
    assert entry["diagnosis"] is not None
    assert "scenario canary failed" in output


def test_canary_fails_when_v2_never_becomes_ready(scenario_lab: ScenarioLab,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    scenario_lab.fail_model_uri(MODEL2_URIS[0])
    code, output, entry = run(scenario_lab, capsys, "canary", "--set", "requests=200", "--set", "ready_timeout=15s")
    assert code == 1
    assert entry["verdict"] == "failed"
    assert entry["reason"].startswith('step 7 "canary ready": InferenceService kserve-test/sklearn-iris failed '
                                      '(modelStatus BlockedByFailedLoad); model: ModelLoadFailed: RuntimeError: '
                                      'Failed to fetch model. The path or model '
                                      'gs://kfserving-examples/models/sklearn/1.0/model-2 does not exist.'), \
        entry["reason"]
    evidence = step(entry, "evidence")["observations"]
    assert f"{REV2}-deployment" in " ".join(k for k in evidence["logs"] if k.endswith("/storage-initializer"))
    assert evidence["isvc"]["modelStatus"]["lastFailureInfo"]["reason"] == "ModelLoadFailed"
    assert entry["diagnosis"]["layers"], "kslab doctor ran after the failure"
    assert "scenario canary failed" in output


def test_canary_rollback_sends_everything_back_to_v1(scenario_lab: ScenarioLab,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, output, entry = run(scenario_lab, capsys, "canary-rollback", *FAST)
    assert code == 0, (entry["reason"], output)
    rolled_back = step(entry, "split after rollback")["observations"]
    assert rolled_back["configured"][REV1] == 100 and rolled_back["revisions"][REV1]["observed_percent"] == 100.0
    assert scenario_lab.lab.isvc()["status"]["components"]["predictor"]["latestRolledoutRevision"] == REV1


def test_standard_canary_on_0_20_uses_spec_canary(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSLAB_MODE", "standard")
    code, output, entry = run(scenario_lab, capsys, "canary-standard", "--set", "ready_timeout=30s")
    assert code == 0, (entry["reason"], output)
    children = step(entry, "canary children")["observations"]
    assert children["present"] == [["apps/v1", "Deployment", "sklearn-iris-predictor"],
                                   ["apps/v1", "Deployment", "sklearn-iris-v2-predictor"]]
    applied = step(entry, "canary v2")["observations"]["manifests"][0]
    assert applied["spec"]["canary"][0]["predictor"]["model"]["storageUri"] == MODEL2_URIS[0]
    assert applied["spec"]["canary"][0]["trafficPercent"] == 10
    # kserve/kserve@v0.20.0:config/crd/full/serving.kserve.io_inferenceservices.yaml:
    # canary.items.predictor.model.required [modelFormat, name]; the fake's CRD check answers 422 without them
    assert applied["spec"]["canary"][0]["predictor"]["model"]["name"] == "kserve-container"
    assert applied["spec"]["canary"][0]["predictor"]["model"]["modelFormat"] == {"name": "sklearn"}
    assert "canaryStatuses" not in scenario_lab.lab.isvc()["status"]  # removed again at the end


@pytest.mark.parametrize(("mode", "version", "scenario", "reason"), [
    ("standard", "0.19.0", "canary-standard", "unsupported: needs KServe >=0.20, this lab runs 0.19.0 (spec.canary[] "
                                              "exists from KServe 0.20 and only in Standard mode; older Standard "
                                              "installs have no canary)"),
    ("standard", "0.20.0", "canary", "unsupported: needs mode knative, this lab runs mode standard "
                                     "(canaryTrafficPercent works in Knative mode only; KServe 0.20+ Standard mode "
                                     "has spec.canary[])"),
])
def test_canaries_report_unsupported_where_they_cannot_work(lab: Lab, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch, mode: str, version: str,
                                                            scenario: str, reason: str) -> None:
    monkeypatch.setenv("KSLAB_MODE", mode)
    monkeypatch.setenv("KSLAB_KSERVE_VERSION", version)
    code, out, err = kslab(capsys, "scenario", "run", scenario)
    [entry] = lab.record()["scenarios"]
    assert code == 0
    assert (entry["verdict"], entry["reason"]) == ("skipped", reason)
    assert f"{scenario}: {reason}" in out + err and entry["steps"] == []
    assert lab.store.find(ISVCS, "kserve-test", "sklearn-iris") is None  # nothing was touched


def test_canary_on_kslab_models_copied_into_a_pvc(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str],
                                                  fake_gcs: Any) -> None:
    """model_source=pvc: v1 and v2 are kslab's own builds, copied into pvc://kslab-models/<isvc>-<version> through
    the helper pod (kubectl cp), and the revisions serve exactly those files; no bucket is asked."""
    from kslab.modelbuild.builder import sha256_file
    from tests.fakecluster.tools.kubectl_cp import volume_dir

    asked = len(fake_gcs.requests)
    code, output, entry = run(scenario_lab, capsys, "canary", *FAST, "--set", "model_source=pvc")
    assert code == 0, (entry["reason"], output)
    uris = [step(entry, name)["observations"]["manifests"][0]["spec"]["predictor"]["model"]["storageUri"]
            for name in ("deploy v1", "canary v2")]
    assert uris == ["pvc://kslab-models/sklearn-iris-v1", "pvc://kslab-models/sklearn-iris-v2"]
    assert len(fake_gcs.requests) == asked
    copies = [c for c in scenario_lab.tools.calls("kubectl") if "cp" in c]
    assert [c[c.index("cp") + 2].split(":", 1)[1] for c in copies] == [
        "/pvc/sklearn-iris-v1/holdout.json", "/pvc/sklearn-iris-v1/metadata.json", "/pvc/sklearn-iris-v1/model.joblib",
        "/pvc/sklearn-iris-v2/holdout.json", "/pvc/sklearn-iris-v2/metadata.json", "/pvc/sklearn-iris-v2/model.joblib"]
    volume = volume_dir("kserve-test", "kslab-models")
    served = {str(d) for v, d in scenario_lab.pool.model_dirs.items() if v.startswith("pvc:")}
    assert {str(volume / "sklearn-iris-v1"), str(volume / "sklearn-iris-v2")} <= served
    assert sha256_file(volume / "sklearn-iris-v1" / "model.joblib") != sha256_file(
        volume / "sklearn-iris-v2" / "model.joblib")  # two different estimators
    canary = step(entry, "split at canary percent")["observations"]
    assert canary["configured"] == {REV1: 90, REV2: 10} and canary["within_tolerance"] is True
