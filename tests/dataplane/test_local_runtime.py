"""The real KServe model server, started by kslab's local runtime, answers like the cluster's sklearnserver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from kslab.inference.client import InferenceClient
from kslab.local import runtime
from kslab.local.deploy import deploy_local, local_endpoint, local_status
from kslab.models.catalog import catalog_model
from tests.dataplane.conftest import MODEL
from tests.state_support import cli_state_dir as _state


@pytest.fixture(scope="module")
def client(iris_runtime, local_settings):
    with InferenceClient(local_endpoint(local_settings, MODEL, state=_state()), timeout_s=10) as c:
        yield c


SAMPLES = catalog_model(MODEL).samples


@pytest.mark.parametrize("sample", SAMPLES, ids=[str(s.expect) for s in SAMPLES])
def test_v1_predict_known_iris_samples(client, sample):
    result = client.predict(sample.instances)
    assert (result.status_code, result.body) == (200, {"predictions": list(sample.expect)})
    assert result.predictions == list(sample.expect) and result.latency_ms > 0


@pytest.mark.parametrize("sample", SAMPLES, ids=[str(s.expect) for s in SAMPLES])
def test_v2_infer_known_iris_samples_in_protocol_shape(client, sample):
    result = client.infer(sample.instances)
    assert result.status_code == 200
    assert result.body["model_name"] == MODEL
    [output] = result.body["outputs"]
    assert output["name"] == "output-0" and output["datatype"] == "INT64"
    assert output["shape"] == [len(sample.instances)] and output["data"] == list(sample.expect)
    assert result.predictions == list(sample.expect)


def test_health_readiness_and_metadata(client):
    assert client.health().body == {"ready": True}
    assert client.model_ready().body == {"name": MODEL, "ready": True}
    meta = client.metadata()
    assert meta.status_code == 200 and meta.body["name"] == MODEL


def test_batch_of_thirty(client):
    rows = [row for sample in SAMPLES for row in sample.instances] * 8  # 32 rows
    expect = [cls for sample in SAMPLES for cls in sample.expect] * 8
    assert client.predict(rows[:30]).predictions == expect[:30]
    assert client.infer(rows[:30]).predictions == expect[:30]


# What kserve 0.21's REST server really answers to malformed input (observed, then pinned here).
MALFORMED = [
    ("v1", b'{"instances": [[6.8, 2.8', 400, "Unrecognized request format"),
    ("v1", b'{"instances": "abc"}', 400, 'Expected "instances" to be a list'),
    ("v1", b'{"instances": [[6.8, 2.8, 4.8]]}', 500, "X has 3 features, but SVC is expecting 4 features"),
    ("v1", b'{"foo": 1}', 500, "'instances'"),
    ("v2", b"not json", 422, "JSON decode error"),
    ("v2", b'{"instances": [[6.8, 2.8, 4.8, 1.4]]}', 422, "Field required"),
    ("v2", json.dumps({"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP32",
                                   "data": [6.8, 2.8, 4.8]}]}).encode(), 500, "X has 3 features"),
]


@pytest.mark.parametrize(("protocol", "body", "status", "message"), MALFORMED)
def test_malformed_requests_are_rejected_as_the_real_server_does(client, protocol, body, status, message):
    result = client.raw(protocol, body)
    assert (result.status_code, result.ok, result.predictions) == (status, False, None)
    assert message in result.error


def test_unknown_model_is_404(iris_runtime):
    answer = requests.post(f"{iris_runtime.url}/v1/models/nope:predict", json={"instances": [[1, 2, 3, 4]]},
                           timeout=5)
    assert answer.status_code == 404 and answer.json() == {"error": "Model with name nope does not exist."}


def test_metrics_count_predictions(iris_runtime, client):
    client.predict(SAMPLES[0].instances)
    text = requests.get(f"{iris_runtime.url}/metrics", timeout=5).text
    assert f'request_predict_seconds_count{{model_name="{MODEL}"}}' in text


def test_listens_on_loopback_only(iris_runtime):
    tcp = Path("/proc/net/tcp")
    if not tcp.exists():
        pytest.skip("no /proc/net/tcp")
    listening = [line.split()[1] for line in tcp.read_text().splitlines()[1:] if line.split()[3] == "0A"]
    ours = [addr for addr in listening if int(addr.split(":")[1], 16) == iris_runtime.port]
    assert ours == ["0100007F:" + f"{iris_runtime.port:04X}"]  # 127.0.0.1, not 0.0.0.0


def test_no_log_lines_per_successful_request(iris_runtime, client):
    log = Path(iris_runtime.log_file)
    before = log.read_text().splitlines()
    for _ in range(20):
        assert client.predict(SAMPLES[0].instances).ok
    assert log.read_text().splitlines() == before


def test_status_is_an_honest_local_runtime(iris_runtime, local_settings):
    status = local_status(local_settings, MODEL, state=_state())
    assert status is not None and status.kind == "local runtime" and status.ready
    meta = json.loads((Path(status.model_dir) / "metadata.json").read_text())
    assert (status.pid, status.port, status.model_sha256, status.version) == (
        iris_runtime.pid, iris_runtime.port, meta["sha256"], "v1")
    assert not {"conditions", "Ready", "phase"} & set(status.to_dict())


def test_deploy_again_keeps_the_running_server(iris_runtime, local_settings):
    again = deploy_local(local_settings, MODEL, "v1", state=_state())
    assert (again.action, again.pid, again.port) == ("unchanged", iris_runtime.pid, iris_runtime.port)


def test_endpoint_is_local_v1_and_v2(iris_runtime, local_settings):
    endpoint = local_endpoint(local_settings, MODEL, state=_state())
    assert (endpoint.base_url, endpoint.via, endpoint.protocols, endpoint.headers()) == (
        iris_runtime.url, "local", ("v1", "v2"), {})
    assert runtime.status(_state(), MODEL).pid == iris_runtime.pid
