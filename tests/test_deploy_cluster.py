"""kslab deploy / undeploy against the fake cluster: Ready in both modes, the child objects of facts §5,
the conditions timeline in the run record, idempotent re-deploys, and undeploy touching only kslab's ISVC."""

from __future__ import annotations

import json

import pytest

from tests.deploy_support import ISVCS, NAME, NS, SAMPLE_URI, kslab, lab_fixture, ready_status  # noqa: F401
from tests.fakecluster.resources import DEPLOYMENTS, HPAS, INGRESSES, KSVCS, REVISIONS, SERVICES, by_key

MODE = "serving.kserve.io/deploymentMode"


def test_deploy_knative_reaches_ready_with_a_conditions_timeline(lab, capsys):
    lab.seed()
    code, out, err = kslab(capsys, "-o", "json", "deploy", NAME)
    assert code == 0, err
    result = json.loads(out)
    assert result["ready"] is True
    assert (result["deployment_mode"], result["runtime"], result["protocol"]) == ("Knative", "kserve-sklearnserver",
                                                                                  "v1")
    assert result["url"] == "http://sklearn-iris.kserve-test.example.com"
    assert result["latest_ready_revision"] == "sklearn-iris-predictor-00001"
    assert {c["type"]: c["status"] for c in result["conditions"]}["Ready"] == "True"
    # the live view on stderr shows the condition changes as they happen
    assert "PredictorReady: waiting RevisionMissing" in err and "Ready: ready True" in err

    isvc = lab.isvc()
    assert isvc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"
    assert isvc["metadata"]["annotations"][MODE] == "Knative"
    assert "kslab" in {f.get("manager") for f in isvc["metadata"]["managedFields"]}  # server-side apply, kslab's
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == SAMPLE_URI
    assert lab.store.find(KSVCS, NS, "sklearn-iris-predictor") is not None
    assert lab.store.find(REVISIONS, NS, "sklearn-iris-predictor-00001") is not None
    assert lab.store.find(DEPLOYMENTS, NS, "sklearn-iris-predictor-00001-deployment") is not None
    pods = lab.store.list(by_key("/pods"), NS, label_selector=f"serving.kserve.io/inferenceservice={NAME}")[0]
    assert [c["name"] for c in pods[0]["spec"]["containers"]] == ["kserve-container", "queue-proxy"]
    assert pods[0]["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}

    record = lab.record()
    assert record["result"] == "ok"
    assert [s["name"] for s in record["steps"]] == ["render", "lint", "apply", "wait"]
    assert record["steps"][0]["observations"]["manifest"]["metadata"]["name"] == NAME
    assert {c["check"] for c in record["steps"][1]["observations"]["checks"]} == {
        "deployment mode", "knative", "runtime", "resources"}
    timeline = record["steps"][3]["observations"]["timeline"]
    ready = [e for e in timeline if e["type"] == "Ready"]
    assert [e["status"] for e in ready][-1] == "True" and len(ready) >= 2  # Unknown first, then True
    assert all(e["at"].endswith("Z") for e in timeline)
    assert [e["elapsed_s"] for e in timeline] == sorted(e["elapsed_s"] for e in timeline)

    # a second deploy of the same spec changes nothing and is Ready at once
    generation = isvc["metadata"]["generation"]
    code, out, err = kslab(capsys, "-o", "json", "deploy", NAME)
    assert code == 0, err
    assert lab.isvc()["metadata"]["generation"] == generation
    assert lab.store.find(REVISIONS, NS, "sklearn-iris-predictor-00002") is None


@pytest.mark.parametrize(("version", "annotation", "status_mode"), [
    ("0.20.0", "Standard", "Standard"),
    ("0.15.2", "RawDeployment", "RawDeployment"),
])
def test_deploy_standard_mode_makes_the_raw_children(lab, capsys, monkeypatch, version, annotation, status_mode):
    lab.knobs.kserve_version = version
    lab.seed(knative=False, mode=annotation)
    monkeypatch.setenv("KSLAB_KSERVE_VERSION", version)
    code, out, err = kslab(capsys, "-o", "json", "deploy", NAME, "--mode", "standard")
    assert code == 0, err
    result = json.loads(out)
    assert result["deployment_mode"] == status_mode
    assert result["url"] == "http://sklearn-iris-kserve-test.example.com"
    assert lab.isvc()["metadata"]["annotations"][MODE] == annotation
    assert lab.store.find(DEPLOYMENTS, NS, "sklearn-iris-predictor") is not None
    service = lab.store.get(SERVICES, NS, "sklearn-iris-predictor")
    assert service["spec"]["ports"][0]["port"] == 80 and service["spec"]["ports"][0]["targetPort"] == 8080
    assert lab.store.find(HPAS, NS, "sklearn-iris-predictor") is not None
    assert lab.store.find(INGRESSES, NS, NAME) is not None
    assert lab.store.list(KSVCS, NS)[0] == []


def test_undeploy_deletes_only_what_kslab_deployed(lab, capsys):
    lab.seed()
    assert kslab(capsys, "deploy", NAME)[0] == 0
    code, out, err = kslab(capsys, "-o", "json", "undeploy", NAME)
    assert code == 0, err
    assert json.loads(out)["action"] == "deleted"
    assert lab.isvc() is None
    assert lab.store.find(KSVCS, NS, "sklearn-iris-predictor") is None  # garbage-collected with its owner

    code, out, err = kslab(capsys, "-o", "json", "undeploy", NAME)
    assert code == 0 and json.loads(out)["action"] == "absent"
    assert "nothing to delete" in err

    from tests.fakecluster.controllers.lab import sklearn_iris
    lab.store.create(ISVCS, NS, sklearn_iris())  # someone else's
    code, out, err = kslab(capsys, "undeploy", NAME)
    assert code == 2
    assert "was not deployed by kslab" in err and "nothing deleted" in err
    assert lab.isvc() is not None
    # and deploy will not take it over either
    code, _, err = kslab(capsys, "deploy", NAME)
    assert code == 2 and "exists and kslab did not deploy it" in err
