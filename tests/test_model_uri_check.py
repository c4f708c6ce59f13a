"""A public model URI is checked from this machine before it is deployed (issue 11, finding 7).

The check asks what KServe's storage initializer will fetch (kserve/kserve@v0.20.0:
python/storage/kserve_storage/kserve_storage.py ``_download_gcs``: the objects under ``PATH/``, else the object
``PATH`` itself). The Cloud Storage stand-in (tests/fake_gcs.py) is pinned here to the JSON API's shapes.
"""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from kslab.storage.public_uri import FOUND, MISSING, NOT_CHECKED, UNKNOWN, check_public_uri
from tests.deploy_support import NAME, kslab, lab_fixture  # noqa: F401  (fixture registration)
from tests.fake_gcs import FakeGcs

SAMPLE = "gs://kfserving-examples/models/sklearn/1.0/model"
ABSENT = "gs://kfserving-examples/models/sklearn/1.0/model-3"


@pytest.fixture
def gcs():
    server = FakeGcs(["bucket/models/iris/model.joblib", "bucket/single.joblib"]).start()
    yield server
    server.stop()


def test_fake_gcs_answers_in_the_json_api_shapes(gcs: FakeGcs) -> None:
    # objects.list: an empty result has no "items" key; objects.get of an absent object and an unknown bucket are
    # 404 with an "error" object (cloud.google.com/storage/docs/json_api/v1/objects/list, .../objects/get).
    assert gcs.answer("/storage/v1/b/bucket/o", {"prefix": ["models/iris/"]})[1]["items"][0]["name"] == \
        "models/iris/model.joblib"
    assert gcs.answer("/storage/v1/b/bucket/o", {"prefix": ["nothing/"]}) == (200, {"kind": "storage#objects"})
    code, body = gcs.answer("/storage/v1/b/bucket/o/absent.joblib", {})
    assert code == 404 and body["error"]["code"] == 404
    code, body = gcs.answer("/storage/v1/b/other/o", {"prefix": [""]})
    assert code == 404 and body["error"]["message"] == "The specified bucket does not exist."


def test_a_model_directory_a_single_object_and_absent_ones(gcs: FakeGcs) -> None:
    assert check_public_uri("gs://bucket/models/iris", gcs.url).result == FOUND
    assert check_public_uri("gs://bucket/models/iris/", gcs.url).result == FOUND
    assert check_public_uri("gs://bucket/single.joblib", gcs.url).result == FOUND
    absent = check_public_uri("gs://bucket/models/other", gcs.url)
    assert absent.result == MISSING and "nothing under models/other/" in absent.detail
    assert check_public_uri("gs://no-such-bucket/x", gcs.url).result == MISSING
    # the listing asked for the prefix with a trailing slash, as the initializer does
    assert any("prefix=models%2Firis%2F" in r for r in gcs.requests)


def test_no_answer_is_unknown_never_missing() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert check_public_uri(SAMPLE, dead).result == UNKNOWN
    assert check_public_uri("pvc://kslab-models/sklearn-iris", dead).result == NOT_CHECKED
    assert check_public_uri("s3://models/iris", dead).result == NOT_CHECKED


def test_https_uris_are_asked_with_head() -> None:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            seen.append(self.command)
            self.send_response(200 if self.path == "/model.joblib" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert check_public_uri(f"{base}/model.joblib").result == FOUND
        assert check_public_uri(f"{base}/gone.joblib").result == MISSING
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["HEAD", "HEAD"]


def test_deploy_of_an_absent_sample_fails_before_anything_is_applied(lab, capsys) -> None:
    lab.seed()
    code, _, err = kslab(capsys, "deploy", NAME, "--storage-uri", ABSENT, "--timeout", "20")
    assert code == 1
    assert f"the model {ABSENT} does not exist" in err and "--storage pvc" in err
    assert lab.isvc() is None
    render = lab.record()["steps"][0]
    assert render["name"] == "render" and render["result"] == "failed"


def test_deploy_of_the_sample_records_the_check(lab, capsys) -> None:
    lab.seed()
    code, _, err = kslab(capsys, "-o", "json", "deploy", NAME, "--timeout", "30")
    assert code == 0, err
    check = lab.record()["steps"][0]["observations"]["model_uri"]
    assert check["uri"] == SAMPLE and check["result"] == FOUND


def test_the_check_can_be_turned_off(lab, capsys, monkeypatch, fake_gcs: FakeGcs) -> None:
    lab.seed()
    monkeypatch.setenv("KSLAB_STORAGE__CHECK_PUBLIC_URIS", "false")
    before = len(fake_gcs.requests)
    code, _, err = kslab(capsys, "deploy", NAME, "--storage-uri", ABSENT, "--timeout", "20")
    # the node's storage-initializer asks the same store and fails, as it would on a real node
    assert code == 1 and f"The path or model {ABSENT} does not exist" in err
    assert len(fake_gcs.requests) == before
    assert lab.isvc() is not None


def test_a_scenario_step_with_an_absent_model_fails_before_applying(lab, capsys, tmp_path: Path,
                                                                    fake_gcs: FakeGcs) -> None:
    lab.seed()
    scenario = tmp_path / "absent.yaml"
    scenario.write_text(json.dumps({
        "name": "absent-model", "description": "apply a model version that is not in the bucket",
        "requires": {"cluster": True},
        "steps": [{"name": "deploy v3", "apply": {"isvc": NAME, "storage_uri": ABSENT, "mode": "knative"}}]}))
    code, out, err = kslab(capsys, "-o", "json", "scenario", "run", str(scenario))
    assert code == 1
    assert f"the model {ABSENT} does not exist" in out + err
    assert lab.isvc() is None
