"""Helpers for `kslab load --in-cluster` tests: a Ready model in the fake cluster whose Job pods really run.

The fake node "has" the generator image (``load_image``, like ``kind load docker-image``): its pods run
``python -m kslab.load.pod_worker`` from this venv, and the model's cluster DNS name resolves to a local
HTTP server (``register_service``). ``broken_image`` makes an image whose ``python`` misbehaves for one
completion index, to test how a failing pod is reported.
"""

from __future__ import annotations

import stat
import sys
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kslab.load.jobspec import DEFAULT_IMAGE
from tests.deploy_support import NAME, NS, Lab
from tests.fakecluster.resources import PODS, by_key
from tests.leak_guard import leftover_pids
from tests.portforward_support import create_ready_isvc

JOBS = by_key("batch/jobs")
VENV_BIN = str(Path(sys.executable).parent)
WORKER_MODULE = "kslab.load.pod_worker"


def ready_model(lab: Lab) -> dict[str, Any]:
    """A Standard-mode stack and a Ready sklearn-iris (status.address.url set by the fake KServe)."""
    lab.seed(mode="Standard", knative=False)
    return create_ready_isvc(lab.cluster)


def cluster_host(isvc: dict[str, Any]) -> str:
    return str(urlsplit(isvc["status"]["address"]["url"]).hostname)


def serve_model_from(lab: Lab, isvc: dict[str, Any], base_url: str, image: str = DEFAULT_IMAGE,
                     bin_dir: str = VENV_BIN) -> None:
    """Job pods of ``image`` run locally and reach the model's cluster address at ``base_url``."""
    lab.cluster.node.load_image(image, bin_dir)
    lab.cluster.node.register_service(cluster_host(isvc), base_url)


def broken_image(tmp_path: Path, index: int, behaviour: str) -> str:
    """A bin dir whose ``python`` crashes (exit 3) or exits 0 silently for ``index``; else the real one."""
    bin_dir = tmp_path / f"broken-{behaviour}"
    bin_dir.mkdir()
    action = 'echo "boom: simulated crash in the generator" >&2; exit 3' if behaviour == "crash" else "exit 0"
    script = bin_dir / "python"
    script.write_text(f'#!/bin/sh\nif [ "$JOB_COMPLETION_INDEX" = "{index}" ]; then {action}; fi\n'
                      f'exec "{sys.executable}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


def jobs_left(lab: Lab) -> list[str]:
    return [j["metadata"]["name"] for j in lab.store.list(JOBS, NS)[0]]


def job_pods_left(lab: Lab) -> list[str]:
    return [p["metadata"]["name"] for p in lab.store.list(PODS, NS, label_selector="job-name")[0]]


def worker_processes() -> list[int]:
    """Live pod_worker processes started by this test process (the fake node's containers)."""
    return leftover_pids("\0", watched=(WORKER_MODULE,), children=True)  # "\0": no argv marker, children only


def job_history(lab: Lab, since: int) -> list[dict[str, Any]]:
    """Every version of every Job written after resourceVersion ``since`` (ADDED/MODIFIED/DELETED), oldest first."""
    return [event.object for event in lab.store.events_since(since, key=JOBS.key)]


def predict_count(base_url: str) -> float:
    """request_predict_seconds_count{model_name="sklearn-iris"} of a KServe model server (facts §7.2)."""
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{base_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("request_predict_seconds_count") and f'model_name="{NAME}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
