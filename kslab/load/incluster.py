"""Run a load plan inside the cluster: an Indexed Job of K generator pods, their results merged into one.

Create the Job (manifests/load/job.yaml), watch it until the Job controller reports it finished
(``SuccessCriteriaMet``/``Complete``, or ``FailureTarget``/``Failed`` with e.g. ``BackoffLimitExceeded``
or ``DeadlineExceeded``), read every pod's ``KSLAB-LOAD-RESULT`` line through the pods/log API and merge
them (kslab.load.podresult). The Job is deleted (propagationPolicy Background) whatever happens: success,
a failed pod, a timeout or Ctrl-C. A pod that failed or printed no result is a CheckFailed naming the pod
and showing the end of its log.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kslab.errors import CheckFailed, WaitTimeout
from kslab.kube import conditions
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.errors import KubeApiError, NotFound
from kslab.kube.resources import JOB
from kslab.kube.wait import wait_for
from kslab.load.jobspec import (
    CONTAINER,
    STARTUP_ALLOWANCE_S,
    WorkerSpec,
    job_deadline,
    job_name,
    render_job,
)
from kslab.load.plan import LoadPlan
from kslab.load.podresult import merge_results, parse_result_line

Obj = dict[str, Any]
StatusSink = Callable[[str], None]
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
# The Job controller's pod label since Kubernetes 1.27 (the unprefixed "controller-uid" is the legacy copy).
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
SUCCESS = ("Complete", "SuccessCriteriaMet")
FAILURE = ("Failed", "FailureTarget")
LOG_TAIL_LINES = 15
WAIT_MARGIN_S = 30.0  # past activeDeadlineSeconds, time for the Job controller to mark the Job Failed
POD_CHECK_S = 5.0
# Container waiting reasons that mean the pod will not run without a change on the user's side.
STUCK_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                 "CreateContainerConfigError", "CreateContainerError")


@dataclass(frozen=True)
class InClusterLoad:
    """One in-cluster run: ``plan.workers`` is the number of pods (see jobspec.pod_plan)."""

    namespace: str
    model: str
    url: str  # the model's cluster-internal predict/infer URL
    body: bytes
    plan: LoadPlan
    image: str
    startup_allowance_s: float = STARTUP_ALLOWANCE_S
    pod_check_s: float = POD_CHECK_S  # how often pods are checked for a start that cannot succeed
    how_to_load: str | None = None  # the provider's command that loads IMAGE onto the nodes (NodeImages);
    # None: the nodes pull from registries only (an existing cluster)


def finished(job: Obj | None) -> bool:
    """The Job is gone or a terminal (or terminal-to-be) condition is True."""
    return job is None or any(conditions.condition_is(job, kind) for kind in SUCCESS + FAILURE)


def succeeded(job: Obj | None) -> bool:
    return job is not None and any(conditions.condition_is(job, kind) for kind in SUCCESS) and not any(
        conditions.condition_is(job, kind) for kind in FAILURE)


def job_counts(job: Obj | None) -> str:
    status = (job or {}).get("status") or {}
    return ", ".join(f"{status.get(key) or 0} {key}" for key in ("active", "ready", "succeeded", "failed"))


def run_in_cluster(kube: Kube, load: InClusterLoad, on_status: StatusSink | None = None) -> dict[str, Any]:
    """Create the Job, wait for it, merge its pods' results; the Job is deleted before this returns or raises."""
    name = job_name(load.model)
    deadline = job_deadline(load.plan, load.startup_allowance_s)
    body = render_job(name=name, namespace=load.namespace, model=load.model, pods=load.plan.workers,
                      image=load.image, spec=WorkerSpec(load.url, load.body, load.plan), deadline_s=deadline)
    created = kube.create(JOB, body, load.namespace)
    try:
        if on_status is not None:
            on_status(f"created {JOB.describe(name, load.namespace)} ({load.plan.workers} pods, image {load.image})")
        job = _wait(kube, load, name, str(created["metadata"]["uid"]), deadline + WAIT_MARGIN_S, on_status)
        pods = _pods(kube, load.namespace, str(created["metadata"]["uid"]))
        if job is None:
            raise CheckFailed(f"{JOB.describe(name, load.namespace)} was deleted before it finished",
                              "was it removed by hand or by a TTL controller? run the load again")
        if not succeeded(job):
            raise _failure(kube, job, pods)
        results = [_result(kube, pod) for pod in _by_index(pods, load.plan.workers, job)]
    finally:
        _delete(kube, name, load.namespace)
    merged = merge_results(results, load.url)
    merged["in_cluster"] = {"pods": load.plan.workers, "image": load.image, "job": name,
                            "namespace": load.namespace}
    return merged


def _wait(kube: Kube, load: InClusterLoad, name: str, uid: str, timeout: float,
          on_status: StatusSink | None) -> Obj | None:
    """Watch the Job until it finished; every ``pod_check_s`` look for pods that cannot start (fail fast)."""
    end = time.monotonic() + timeout
    report = _reporter(on_status)
    while True:
        remaining = end - time.monotonic()
        try:
            return wait_for(kube, JOB, name, load.namespace, finished, what="finished (Complete or Failed)",
                            timeout=max(min(remaining, load.pod_check_s), 0.1), on_change=report)
        except WaitTimeout as exc:
            if remaining <= load.pod_check_s:
                seen = exc.message.split("; last seen: ", 1)[-1]
                raise WaitTimeout(f"timed out after {timeout:g}s waiting for {JOB.describe(name, load.namespace)} "
                                  f"to finish (Complete or Failed); last seen: {seen}", exc.hint) from None
        _check_pods_can_start(_pods(kube, load.namespace, uid), load)


def image_fix(image: str, how_to_load: str | None) -> str:
    """How to get ``image`` onto the nodes: the provider's load command (``how_to_load`` with IMAGE in it), or
    a registry when the nodes only pull."""
    if how_to_load is not None:
        return (f"'kslab up' builds and loads kslab's images, or load it yourself: "
                f"{how_to_load.replace('IMAGE', image)}; see docs/in-cluster-load.md")
    return ("push the image to a registry the cluster can pull from and set load.image (or pass --image); "
            "see docs/in-cluster-load.md")


def _check_pods_can_start(pods: list[Obj], load: InClusterLoad) -> None:
    """CheckFailed naming the first pod whose container waits for a reason that does not fix itself."""
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in STUCK_REASONS:
                meta = pod["metadata"]
                image = status.get("image") or load.image
                reason = waiting["reason"]
                if reason == "ErrImagePull":
                    reason = "ErrImagePull (then ImagePullBackOff)"
                raise CheckFailed(f"load pod {meta['name']} cannot start: {reason} for image {image}: "
                                  f"{waiting.get('message') or 'no detail'}",
                                  image_fix(image, load.how_to_load))


def _reporter(on_status: StatusSink | None) -> Callable[[Obj | None], None]:
    last = [""]

    def report(job: Obj | None) -> None:
        text = job_counts(job)
        if on_status is not None and job is not None and text != last[0]:
            last[0] = text
            on_status(f"job {job['metadata']['name']}: {text}")
    return report


def _pods(kube: Kube, namespace: str, uid: str) -> list[Obj]:
    pods, _ = kube.list(R.POD, namespace, label_selector=f"{CONTROLLER_UID_LABEL}={uid}")
    return pods


def _index(pod: Obj) -> int:
    try:
        return int(((pod.get("metadata") or {}).get("annotations") or {}).get(INDEX_ANNOTATION, -1))
    except ValueError:
        return -1


def _by_index(pods: list[Obj], count: int, job: Obj) -> list[Obj]:
    """The Succeeded pod of every completion index 0..count-1."""
    done = {_index(p): p for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"}
    missing = [i for i in range(count) if i not in done]
    if missing:
        raise CheckFailed(f"{JOB.describe(job['metadata']['name'], job['metadata']['namespace'])} finished "
                          f"without a succeeded pod for index(es) {', '.join(map(str, missing))}; "
                          f"job: {conditions.summarize(job)}",
                          "were the pods deleted early? run the load again")
    return [done[i] for i in range(count)]


def _log(kube: Kube, pod: Obj, tail: int | None = None) -> str:
    meta = pod["metadata"]
    try:
        return kube.pod_log(meta["name"], meta["namespace"], CONTAINER, tail_lines=tail)
    except KubeApiError as exc:
        return f"(log unavailable: {exc})"


def _tail(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()][-LOG_TAIL_LINES:]
    return "\n  | ".join(["", *lines]) if lines else " (empty log)"


def _result(kube: Kube, pod: Obj) -> dict[str, Any]:
    log = _log(kube, pod)
    result = parse_result_line(log)
    if result is None:
        raise CheckFailed(f"load pod {pod['metadata']['name']} succeeded but printed no KSLAB-LOAD-RESULT line; "
                          f"its log ends:{_tail(log)}",
                          "is the image's kslab the same version as this one? see docs/in-cluster-load.md")
    result["pod"] = pod["metadata"]["name"]
    return result


def _exit_code(pod: Obj) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated:
            return f"exit code {terminated.get('exitCode')} ({terminated.get('reason', 'Error')})"
        waiting = (status.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": ")
    return f"phase {(pod.get('status') or {}).get('phase', 'unknown')}"


def _failure(kube: Kube, job: Obj, pods: list[Obj]) -> CheckFailed:
    where = JOB.describe(job["metadata"]["name"], job["metadata"]["namespace"])
    failed = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
    state = conditions.summarize({"status": {"conditions": [
        c for c in conditions.conditions(job) if c.get("type") in FAILURE]}})
    if not failed:
        stuck = [p for p in pods if (p.get("status") or {}).get("phase") != "Succeeded"]
        detail = "; ".join(f"pod {p['metadata']['name']}: {_exit_code(p)}" for p in stuck[:3])
        return CheckFailed(f"{where} failed: {state}" + (f"; {detail}" if detail else ""),
                           f"kubectl describe {where}")
    pod = failed[0]
    others = f" (and {len(failed) - 1} more failed pod(s))" if len(failed) > 1 else ""
    return CheckFailed(f"load pod {pod['metadata']['name']} failed with {_exit_code(pod)}{others}; job: {state}; "
                       f"its log ends:{_tail(_log(kube, pod, LOG_TAIL_LINES * 2))}",
                       f"kubectl logs {pod['metadata']['name']} -n {pod['metadata']['namespace']} "
                       "(before the next run); is the image loaded on the nodes? see docs/in-cluster-load.md")


def _delete(kube: Kube, name: str, namespace: str) -> None:
    with contextlib.suppress(NotFound):
        kube.delete(JOB, name, namespace, propagation="Background")
