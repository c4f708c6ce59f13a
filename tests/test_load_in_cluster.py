"""kslab load --in-cluster: an Indexed Job whose pods really run the generator, results merged exactly."""

from __future__ import annotations

import json

import pytest

from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.exitcodes import ExitCode
from kslab.kube.client import Kube
from kslab.kube.errors import KubeApiError
from kslab.kube.resources import JOB
from kslab.lab.incluster_load import cluster_url
from kslab.load.histogram import decode, encode, histogram_of
from kslab.load.incluster import InClusterLoad, run_in_cluster
from kslab.load.jobspec import DEFAULT_IMAGE, WorkerSpec, plan_from_dict, pod_plan, render_job
from kslab.load.plan import build_plan
from kslab.load.podresult import RESULT_PREFIX, merge_results, merge_series, parse_result_line, result_line
from tests.deploy_support import NAME, NS, kslab, lab_fixture  # noqa: F401  (fixture registration)
from tests.fakecluster.controllers.lab import wait_for
from tests.load_in_cluster_support import (
    broken_image,
    cluster_host,
    job_history,
    job_pods_left,
    jobs_left,
    ready_model,
    serve_model_from,
    worker_processes,
)
from tests.load_support import TestServer


@pytest.fixture
def server():
    with TestServer() as running:
        yield running


@pytest.fixture
def model(lab):
    isvc = ready_model(lab)
    yield isvc
    wait_for(lambda: worker_processes() == [], 5, "the generator processes of deleted pods to stop")


def _plan(**flags):
    base = {"concurrency": None, "duration": None, "requests": None, "rate": None, "profile": None, "warmup": None,
            "timeout": None, "workers": 1}
    return build_plan(**(base | flags))


# -- end to end ---------------------------------------------------------------------------------------------

def test_three_pods_share_the_plan_and_their_results_merge_exactly(lab, model, server, capsys, monkeypatch):
    serve_model_from(lab, model, f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("KSLAB_LOAD__IMAGE", DEFAULT_IMAGE)  # an existing cluster pulls what load.image names
    since = lab.store.resource_version
    code, out, err = kslab(capsys, "load", NAME, "--in-cluster", "--pods", "3", "-n", "301", "-c", "6", "-o", "json")
    assert code == ExitCode.OK, err
    data = json.loads(out)
    pods = data["pods"]
    assert [p["index"] for p in pods] == [0, 1, 2]
    assert [p["requests"] for p in pods] == [101, 100, 100]  # JOB_COMPLETION_INDEX picked each pod's share
    assert [p["connections"] for p in pods] == [2, 2, 2]
    assert data["requests"] == data["ok"] == sum(p["requests"] for p in pods) == 301 == server.requests
    assert data["latency"]["count"] == sum(p["latency"]["count"] for p in pods) == 301
    assert all(p["pod"].startswith(f"{data['in_cluster']['job']}-{p['index']}-") for p in pods)
    assert data["target"] == f"http://{cluster_host(model)}/v1/models/{NAME}:predict"
    assert sum(row["requests"] for row in data["series"]) == 301
    longest = max(p["measured_s"] for p in pods)
    assert data["throughput_rps"] == round(301 / longest, 1)
    assert data["in_cluster"] == {"pods": 3, "image": DEFAULT_IMAGE, "job": data["in_cluster"]["job"],
                                  "namespace": NS}
    assert jobs_left(lab) == [] and job_pods_left(lab) == []
    deletes = lab.cluster.server.requests("DELETE", f"/apis/batch/v1/namespaces/{NS}/jobs/{data['in_cluster']['job']}")
    assert [d.status for d in deletes] == [200]  # and not orphaned: its pods went with it (above)
    final = [j for j in job_history(lab, since) if j["metadata"]["name"] == data["in_cluster"]["job"]][-1]
    assert [c["type"] for c in final["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert (final["status"]["succeeded"], final["status"]["completedIndexes"]) == (3, "0-2")
    step = lab.record()["steps"][0]
    assert (step["name"], step["result"]) == ("load", "ok")
    assert step["inputs"]["in_cluster"] == {"pods": 3, "image": DEFAULT_IMAGE}
    assert step["observations"]["in_cluster"]["job"] == data["in_cluster"]["job"]
    assert step["observations"]["requests"] == 301 and len(step["observations"]["pods"]) == 3
    merged = decode(step["observations"]["histogram"])
    recorded_pods = step["observations"]["pods"]
    assert merged.get_total_count() == sum(decode(p["histogram"]).get_total_count() for p in recorded_pods) == 301


@pytest.mark.parametrize(("behaviour", "expected"), [("crash", "exit code 3"), ("silent", "printed no")])
def test_a_failing_pod_is_named_with_its_log_and_the_job_is_deleted(lab, model, server, capsys, tmp_path,
                                                                     monkeypatch, behaviour, expected):
    image = "kslab-load:broken"
    serve_model_from(lab, model, f"http://127.0.0.1:{server.port}", image, broken_image(tmp_path, 1, behaviour))
    if behaviour == "crash":
        chosen = ["--image", image]
    else:
        chosen = []
        monkeypatch.setenv("KSLAB_LOAD__IMAGE", image)  # the load.image setting
    code, _, err = kslab(capsys, "load", NAME, "--in-cluster", "--pods", "2", *chosen, "--duration", "1s", "-c", "2")
    assert code == ExitCode.CHECK_FAILED, err
    assert expected in err and "Traceback" not in err
    failed_pod = err.split("load pod ", 1)[1].split(" ", 1)[0]
    assert failed_pod.startswith("kslab-load-sklearn-iris-") and "-1-" in failed_pod
    if behaviour == "crash":
        assert "boom: simulated crash in the generator" in err and "BackoffLimitExceeded" in err
    assert jobs_left(lab) == [] and job_pods_left(lab) == []
    step = lab.record()["steps"][0]
    assert (step["result"], step["inputs"]["in_cluster"]["image"]) == ("failed", image)


def test_ctrl_c_while_waiting_deletes_the_job_and_stops_its_pods(lab, model, server):
    serve_model_from(lab, model, f"http://127.0.0.1:{server.port}")
    kube = Kube(str(lab.cluster.kubeconfig_path))
    load = InClusterLoad(NS, NAME, f"http://{cluster_host(model)}/v1/models/{NAME}:predict", b"{}",
                         pod_plan(_plan(duration="30s", concurrency=2), 2), DEFAULT_IMAGE)

    def interrupt(text):
        if "2 ready" in text:  # both pods run: Ctrl-C once their generators are sending
            wait_for(lambda: server.requests > 0, 10, "the generators to send")
            assert len(worker_processes()) == 2
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_in_cluster(kube, load, interrupt)
    assert jobs_left(lab) == [] and job_pods_left(lab) == []
    wait_for(lambda: worker_processes() == [], 5, "the node to stop the deleted pods' generators")


def test_a_pod_whose_image_is_not_on_the_node_fails_the_run_naming_image_pull_back_off(lab, model):
    kube = Kube(str(lab.cluster.kubeconfig_path))  # nothing loaded on the node: the fake kubelet cannot pull it
    image = "kslab/load:not-loaded"
    load = InClusterLoad(NS, NAME, f"http://{cluster_host(model)}/v1/models/{NAME}:predict", b"{}",
                         pod_plan(_plan(duration="60s", concurrency=2), 2), image, pod_check_s=0.2,
                         how_to_load="kind load docker-image IMAGE --name lab")
    with pytest.raises(CheckFailed) as failed:
        run_in_cluster(kube, load)
    message = str(failed.value)
    assert "cannot start: " in message and "ImagePullBackOff" in message and f"for image {image}" in message
    assert 'failed to pull and unpack image "docker.io/kslab/load:not-loaded"' in message
    assert failed.value.hint.startswith("'kslab up' builds and loads kslab's images, or load it yourself: "
                                        f"kind load docker-image {image} --name lab")
    assert jobs_left(lab) == [] and job_pods_left(lab) == []


def test_an_unloaded_image_on_an_existing_cluster_says_to_push_it_and_set_load_image(lab, model, capsys):
    code, _, err = kslab(capsys, "load", NAME, "--in-cluster", "--image", "kslab/load:not-loaded", "-n", "4",
                         "-c", "1")
    assert code == ExitCode.CHECK_FAILED, err
    assert "ImagePullBackOff" in err and "kslab/load:not-loaded" in err
    assert "hint: push the image to a registry the cluster can pull from and set load.image" in err
    assert jobs_left(lab) == []


def test_an_existing_cluster_without_load_image_is_a_one_line_usage_error(lab, model, capsys):
    code, _, err = kslab(capsys, "load", NAME, "--in-cluster", "-n", "4", "-c", "1")
    assert code == ExitCode.USAGE, err
    [error] = [line for line in err.splitlines() if line.startswith("error:")]
    assert error == ("error: load.image is not set: kslab cannot load its kslab/load image onto an existing "
                     "cluster's nodes")
    assert "push it to a registry the cluster can pull from, and set load.image in kslab.yaml" in err
    assert jobs_left(lab) == []


def test_job_pods_are_found_by_the_job_controllers_batch_label(lab, model, server):
    serve_model_from(lab, model, f"http://127.0.0.1:{server.port}")
    kube = Kube(str(lab.cluster.kubeconfig_path))
    load = InClusterLoad(NS, NAME, f"http://{cluster_host(model)}/v1/models/{NAME}:predict", b"{}",
                         pod_plan(_plan(requests=4, concurrency=1), 1), DEFAULT_IMAGE)
    result = run_in_cluster(kube, load)
    assert result["requests"] == 4
    pod_lists = [r.path for r in lab.cluster.server.requests("GET", f"/api/v1/namespaces/{NS}/pods?")]
    assert pod_lists and all("labelSelector=batch.kubernetes.io/controller-uid%3D" in p for p in pod_lists)


def test_the_model_must_be_ready_and_flags_must_fit(lab, capsys):
    lab.seed(mode="Standard", knative=False)
    code, _, err = kslab(capsys, "load", NAME, "--in-cluster", "-n", "10")
    assert code == ExitCode.CHECK_FAILED and "not found" in err
    for argv, message in [(["--pods", "2"], "need --in-cluster"), (["--in-cluster", "--url", "http://x"], "exclude"),
                          (["--in-cluster", "--pods", "5", "-c", "2"], "more than the 2 connections"),
                          (["--in-cluster", "--workers", "2", "-c", "4"], "--workers and --in-cluster")]:
        code, _, err = kslab(capsys, "load", NAME, "-n", "10", *argv)
        assert (code, message in err) == (ExitCode.USAGE, True), err
    assert jobs_left(lab) == []


# -- the Job manifest -----------------------------------------------------------------------------------------

def _job(**overrides):
    spec = WorkerSpec("http://m.ns.svc.cluster.local/v1/models/m:predict", b'{"instances":[[1,2,3,4]]}',
                      pod_plan(_plan(requests=30, concurrency=3), 3))
    return render_job(**({"name": "kslab-load-m-abcde", "namespace": NS, "model": "m", "pods": 3,
                          "image": DEFAULT_IMAGE, "spec": spec, "deadline_s": 300} | overrides))


def test_the_job_renders_to_a_batch_v1_job_the_api_server_accepts(lab):
    lab.seed(mode="Standard", knative=False)
    kube = Kube(str(lab.cluster.kubeconfig_path))
    created = kube.create(JOB, _job(), NS)
    spec, pod = created["spec"], created["spec"]["template"]["spec"]
    assert (spec["completionMode"], spec["parallelism"], spec["completions"], spec["backoffLimit"]) == (
        "Indexed", 3, 3, 0)
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": created["metadata"]["uid"]}}
    assert created["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kslab"
    assert (pod["restartPolicy"], pod["securityContext"]["runAsNonRoot"]) == ("Never", True)
    container = pod["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "250m", "memory": "128Mi"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    [env] = [e for e in container["env"] if e["name"] == "KSLAB_LOAD_SPEC"]
    carried = WorkerSpec.from_json(env["value"])
    assert (carried.body, carried.plan.workers, carried.plan.steps[0].requests) == (b'{"instances":[[1,2,3,4]]}', 3, 30)
    kube.delete(JOB, "kslab-load-m-abcde", NS)


def test_every_field_of_the_job_is_a_batch_v1_field():
    from kubernetes.client import ApiClient

    client = ApiClient()
    job = _job()
    typed = client._ApiClient__deserialize(job, "V1Job")  # the client's models drop fields they do not know
    assert client.sanitize_for_serialization(typed) == job


def test_an_invalid_job_is_refused_by_the_api_server(lab):
    lab.seed(mode="Standard", knative=False)
    kube = Kube(str(lab.cluster.kubeconfig_path))
    job = _job()
    del job["spec"]["completions"]
    with pytest.raises(KubeApiError) as refused:
        kube.create(JOB, job, NS)
    assert refused.value.status == 422 and "when completion mode is Indexed" in str(refused.value)


# -- result lines and merging -----------------------------------------------------------------------------------

def _result(values_us, *, index, started_at=1000.0, elapsed=2.0, series=()):
    counts = {}
    for value in values_us:
        counts[value] = counts.get(value, 0) + 1
    return {"target": "t", "mode": "closed", "connections": 2, "workers": 1, "warmup_s": 0.0, "elapsed_s": elapsed,
            "interrupted": False, "unfinished": 0, "requests": len(values_us), "ok": len(values_us),
            "errors": {"HTTP 503": index}, "error_total": index, "late": 0, "throughput_rps": 1.0,
            "latency": {}, "histogram": encode(histogram_of(counts)), "series": list(series),
            "index": index, "pod": f"p-{index}", "started_at": started_at, "measured_s": elapsed}


def test_the_result_line_round_trips_and_only_the_last_good_one_counts():
    first = result_line(_result([1000], index=0), index=0, pod="a", started_at=5.0)
    last = result_line(_result([2000, 3000], index=1), index=1, pod="b", started_at=6.0)
    log = f"progress\n{first}\n{RESULT_PREFIX}{{broken json\n{last}\ntrailing noise\n"
    parsed = parse_result_line(log)
    assert (parsed["pod"], parsed["index"], parsed["requests"], parsed["started_at"]) == ("b", 1, 2, 6.0)
    assert parse_result_line("no result here\n") is None
    assert parse_result_line(RESULT_PREFIX + json.dumps({"requests": 1})) is None  # no histogram: not a result


def test_histograms_merge_bucket_for_bucket_and_counts_add_up():
    pods = [_result([1000, 1000, 50_000], index=0), _result([2000, 900_000], index=1, elapsed=4.0)]
    merged = merge_results(pods, "http://m/v1/models/m:predict")
    histogram = decode(merged["histogram"])
    assert histogram.get_total_count() == 5 == merged["requests"] == merged["latency"]["count"]
    assert histogram.get_max_value() == decode(pods[1]["histogram"]).get_max_value()
    assert histogram.get_min_value() == decode(pods[0]["histogram"]).get_min_value()
    assert merged["errors"] == {"HTTP 503": 1} and merged["error_total"] == 1
    assert merged["throughput_rps"] == round(5 / 4.0, 1) and merged["workers"] == 2


def test_series_rows_merge_by_wall_clock_second():
    row = {"step": 0, "late": 0, "warmup": False}
    a = [{"t": 0, "requests": 10, "ok": 10, "errors": 0, "p50_ms": 1.0, "p99_ms": 2.0, **row},
         {"t": 1, "requests": 5, "ok": 5, "errors": 0, "p50_ms": 1.0, "p99_ms": 9.0, **row}]
    b = [{"t": 0, "requests": 7, "ok": 6, "errors": 1, "p50_ms": 3.0, "p99_ms": 4.0, **row}]
    merged = merge_series([(0.0, a), (1.2, b)])  # b started 1.2 s later: its second 0 is a's second 1
    assert [(r["t"], r["requests"], r["errors"], r["p99_ms"]) for r in merged] == [(0, 10, 0, 2.0), (1, 12, 1, 9.0)]


def test_a_plan_survives_the_trip_through_the_pod_environment():
    plan = pod_plan(_plan(profile="2,4@1s", warmup="1s"), 2)
    assert plan_from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert Settings().load.image == ""


@pytest.mark.parametrize(("address", "protocol", "url"), [
    ("http://sklearn-iris.kserve-test.svc.cluster.local", "v1",  # Knative mode (facts §4.3)
     "http://sklearn-iris.kserve-test.svc.cluster.local/v1/models/sklearn-iris:predict"),
    ("http://sklearn-iris-predictor.kserve-test.svc.cluster.local", "v2",  # Standard mode
     "http://sklearn-iris-predictor.kserve-test.svc.cluster.local/v2/models/sklearn-iris/infer"),
])
def test_the_target_is_the_cluster_internal_address_plus_the_protocols_route(address, protocol, url):
    isvc = {"metadata": {"name": NAME, "namespace": NS}, "status": {"address": {"url": address}}}
    assert cluster_url(isvc, protocol) == url
    with pytest.raises(CheckFailed, match="no http:// cluster address"):
        cluster_url({"metadata": isvc["metadata"], "status": {}}, protocol)
