"""kslab load --in-cluster against the real KServe model server: Job pods (real local processes) predict iris."""

from __future__ import annotations

import json

from kslab.exitcodes import ExitCode
from kslab.load.jobspec import DEFAULT_IMAGE
from tests.dataplane.conftest import MODEL
from tests.deploy_support import kslab, lab_fixture  # noqa: F401  (fixture registration)
from tests.fakecluster.controllers.lab import wait_for
from tests.load_in_cluster_support import (
    job_pods_left,
    jobs_left,
    predict_count,
    ready_model,
    serve_model_from,
    worker_processes,
)


def test_in_cluster_pods_load_the_real_model_server_and_it_counts_every_request(lab, iris_runtime, capsys):
    isvc = ready_model(lab)
    serve_model_from(lab, isvc, iris_runtime.url)
    before = predict_count(iris_runtime.url)
    code, out, err = kslab(capsys, "load", MODEL, "--in-cluster", "--pods", "2", "-n", "60", "-c", "4", "-o", "json",
                           "--image", DEFAULT_IMAGE)  # an existing cluster: the image the node was given
    assert code == ExitCode.OK, err
    data = json.loads(out)
    assert (data["requests"], data["ok"], data["error_total"], data["latency"]["count"]) == (60, 60, 0, 60)
    assert [(p["index"], p["requests"], p["ok"]) for p in data["pods"]] == [(0, 30, 30), (1, 30, 30)]
    assert predict_count(iris_runtime.url) - before == 60  # the model server saw exactly what the pods report
    assert 0.05 < data["latency"]["min_ms"] <= data["latency"]["p99_ms"] <= data["latency"]["max_ms"] < 2000
    assert jobs_left(lab) == [] and job_pods_left(lab) == []
    wait_for(lambda: worker_processes() == [], 5, "the generator processes to stop")
