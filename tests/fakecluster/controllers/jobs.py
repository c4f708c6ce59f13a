"""The Job controller (batch/v1) of a 1.3x kube-controller-manager, for NonIndexed and Indexed Jobs.

Pods: ``<job>-<rand5>`` (NonIndexed) or ``<job>-<index>-<rand5>`` (Indexed), with the template's labels
(the apiserver added job-name and controller-uid, see job_admission.py), owned by the Job (controller
reference). Indexed pods also get the completion index as annotation and label
``batch.kubernetes.io/job-completion-index``, env ``JOB_COMPLETION_INDEX`` from that label (PodIndexLabel
is GA) and hostname ``<job>-<index>``. At most ``parallelism`` pods are active.

Status follows the real controller: ``active``/``succeeded``/``failed`` (left out at zero), ``ready`` and
``terminating`` (always), ``uncountedTerminatedPods: {}``, ``completedIndexes`` ("0-2,4"), ``startTime``.
Success: ``SuccessCriteriaMet`` then ``Complete`` (reason CompletionsReached, "Reached expected number of
succeeded pods") and ``completionTime``. Failure (failed pods > backoffLimit, or activeDeadlineSeconds
passed): ``FailureTarget`` (BackoffLimitExceeded "Job has reached the specified backoff limit" or
DeadlineExceeded "Job was active longer than specified deadline"), the active pods are deleted and
counted as failed, then ``Failed`` with the same reason; a failed Job has no completionTime.
``ttlSecondsAfterFinished`` deletes a finished Job (the TTL-after-finished controller). Not simulated:
the job-tracking finalizer on pods, suspend, pod failure/success policies, backoffLimitPerIndex.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from typing import Any

from ..resources import PODS, by_key
from ..store import Event, now_rfc3339
from .common import delete_quietly, find_condition, is_deleting, is_owned_by, owner_requests, random_suffix, with_owner
from .deployments import _qos
from .framework import Reconciler, Request
from .job_admission import UID_LABELS
from .pods import pod_is_ready

Obj = dict[str, Any]
JOBS = by_key("batch/jobs")
MANAGER = "kube-controller-manager"
COMPONENT = "job-controller"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")


def compress_indexes(indexes: Iterable[int]) -> str:
    """[0, 1, 2, 4] -> "0-2,4" (the completedIndexes format)."""
    ordered = sorted(set(indexes))
    parts: list[str] = []
    start = prev = None
    for value in [*ordered, None]:
        if value is not None and prev is not None and value == prev + 1:
            prev = value
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = value
    return ",".join(parts)


def pod_index(pod: Obj) -> int:
    try:
        return int(((pod.get("metadata") or {}).get("annotations") or {}).get(INDEX_KEY, -1))
    except ValueError:
        return -1


def job_finished(job: Obj) -> bool:
    return any((find_condition(job, kind) or {}).get("status") == "True" for kind in ("Complete", "Failed"))


class JobReconciler(Reconciler):
    name = "jobs"
    watches = ("batch/jobs", "/pods")

    def __init__(self, mgr: Any) -> None:
        super().__init__(mgr)
        self._started: dict[str, float] = {}  # job uid -> monotonic time of the first sync (activeDeadline)

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == "/pods":
            return owner_requests(event.object, "Job")
        if event.type == "DELETED":
            self._started.pop(str(event.object["metadata"].get("uid")), None)
            return ()
        return super().requests_for(event)

    def reconcile(self, namespace: str, name: str) -> None:
        job = self.store.find(JOBS, namespace, name)
        if job is None or is_deleting(job) or job_finished(job):
            return
        spec, uid = job.get("spec") or {}, str(job["metadata"]["uid"])
        pods, _ = self.store.list(PODS, namespace, label_selector=f"{UID_LABELS[0]}={uid}")
        pods = [p for p in pods if is_owned_by(p, job) and not is_deleting(p)]
        phase = {id(p): (p.get("status") or {}).get("phase") for p in pods}
        active = [p for p in pods if phase[id(p)] not in ("Succeeded", "Failed")]
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        done = [p for p in pods if phase[id(p)] == "Succeeded"]
        done_indexes = sorted({pod_index(p) for p in done if 0 <= pod_index(p) < (completions or 0)})
        succeeded = len(done_indexes) if indexed else len(done)
        failed = max(int((job.get("status") or {}).get("failed") or 0),
                     sum(1 for p in pods if phase[id(p)] == "Failed"))
        status = self._status(job, active, succeeded, failed, done_indexes if indexed else None)
        started = self._started.setdefault(uid, time.monotonic())
        deadline = spec.get("activeDeadlineSeconds")
        if failed > int(spec.get("backoffLimit", 6)):
            self._fail(job, status, active, BACKOFF_EXCEEDED)
        elif deadline is not None and time.monotonic() - started >= self.settings.delay(float(deadline)):
            self._fail(job, status, active, DEADLINE_EXCEEDED)
        elif completions is not None and succeeded >= int(completions):
            self._complete(job, status)
        else:
            self._create_pods(job, active, done_indexes if indexed else None, succeeded)
            self._write(job, status)
            if deadline is not None:
                remaining = float(deadline) - (time.monotonic() - started) / max(self.settings.time_scale, 1e-9)
                self.requeue_after(max(remaining, 0.0) + 0.001, namespace, name)

    # -- status ------------------------------------------------------------------------------
    @staticmethod
    def _status(job: Obj, active: list[Obj], succeeded: int, failed: int, indexes: list[int] | None) -> Obj:
        status = copy.deepcopy(job.get("status") or {})
        status.setdefault("startTime", now_rfc3339())
        counts = {"active": len(active), "succeeded": succeeded, "failed": failed}
        for key, value in counts.items():
            if value:
                status[key] = value
            else:
                status.pop(key, None)
        status["ready"] = sum(1 for p in active if pod_is_ready(p))
        status["terminating"] = 0
        status["uncountedTerminatedPods"] = {}
        if indexes:
            status["completedIndexes"] = compress_indexes(indexes)
        return status

    def _write(self, job: Obj, status: Obj) -> Obj:
        if job.get("status") == status:
            return job
        md = job["metadata"]

        def change(obj: Obj) -> None:
            if str(obj["metadata"].get("uid")) == str(md["uid"]):
                obj["status"] = copy.deepcopy(status)
        return self.store.mutate(JOBS, md["namespace"], md["name"], change, subresource="status",
                                 manager=MANAGER) or job

    @staticmethod
    def _condition(status: Obj, kind: str, reason: tuple[str, str]) -> None:
        """Append a True condition (the Job controller keeps conditions in the order it added them)."""
        now = now_rfc3339()
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != kind]
        conditions.append({"type": kind, "status": "True", "reason": reason[0], "message": reason[1],
                           "lastProbeTime": now, "lastTransitionTime": now})
        status["conditions"] = conditions

    def _complete(self, job: Obj, status: Obj) -> None:
        self._condition(status, "SuccessCriteriaMet", COMPLETIONS_REACHED)
        job = self._write(job, status)
        status = copy.deepcopy(status)
        self._condition(status, "Complete", COMPLETIONS_REACHED)
        status["completionTime"] = now_rfc3339()
        self._write(job, status)
        self.mgr.events.record(job, "Normal", "Completed", "Job completed", COMPONENT)
        self._expire_after_ttl(job)

    def _fail(self, job: Obj, status: Obj, active: list[Obj], reason: tuple[str, str]) -> None:
        self._condition(status, "FailureTarget", reason)
        job = self._write(job, status)
        for pod in active:
            delete_quietly(self.store, PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        status = copy.deepcopy(status)
        status.pop("active", None)
        status["failed"] = int(status.get("failed") or 0) + len(active)
        status["ready"] = 0
        self._condition(status, "Failed", reason)
        self._write(job, status)
        self.mgr.events.record(job, "Warning", reason[0], reason[1], COMPONENT)
        self._expire_after_ttl(job)

    def _expire_after_ttl(self, job: Obj) -> None:
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return
        namespace, name, uid = job["metadata"]["namespace"], job["metadata"]["name"], job["metadata"]["uid"]

        def expire() -> None:
            live = self.store.find(JOBS, namespace, name)
            if live is not None and live["metadata"]["uid"] == uid:
                delete_quietly(self.store, JOBS, namespace, name)
        self.mgr.after(float(ttl), expire, key=f"job-ttl/{uid}")

    # -- pods --------------------------------------------------------------------------------
    def _create_pods(self, job: Obj, active: list[Obj], done_indexes: list[int] | None, succeeded: int) -> None:
        spec = job.get("spec") or {}
        parallelism = int(spec.get("parallelism", 1))
        completions = spec.get("completions")
        want = parallelism if completions is None else min(parallelism, int(completions) - succeeded)
        missing = max(want - len(active), 0)
        if done_indexes is None:
            for _ in range(missing):
                self._create_pod(job, None)
            return
        busy = set(done_indexes) | {pod_index(p) for p in active}
        free = [i for i in range(int(completions or 0)) if i not in busy]
        for index in free[:missing]:
            self._create_pod(job, index)

    def _create_pod(self, job: Obj, index: int | None) -> None:
        template = copy.deepcopy((job.get("spec") or {}).get("template") or {})
        tmeta, spec = template.get("metadata") or {}, template.get("spec") or {}
        name = job["metadata"]["name"]
        labels, annotations = dict(tmeta.get("labels") or {}), dict(tmeta.get("annotations") or {})
        prefix = f"{name}-"
        if index is not None:
            prefix = f"{name}-{index}-"
            labels[INDEX_KEY] = annotations[INDEX_KEY] = str(index)
            spec.setdefault("hostname", f"{name}-{index}")
            for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                env = container.setdefault("env", [])
                if not any(e.get("name") == INDEX_ENV for e in env):
                    env.append({"name": INDEX_ENV, "valueFrom": {"fieldRef": {
                        "apiVersion": "v1", "fieldPath": f"metadata.labels['{INDEX_KEY}']"}}})
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        pod = {"metadata": {"name": prefix + random_suffix(self.mgr.rng), "generateName": prefix, "labels": labels,
                            **({"annotations": annotations} if annotations else {})},
               "spec": spec, "status": {"phase": "Pending", "qosClass": _qos(spec)}}
        created = self.store.create(PODS, job["metadata"]["namespace"], with_owner(pod, job), manager=MANAGER,
                                    keep_status=True)
        self.mgr.events.record(job, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                               COMPONENT)
