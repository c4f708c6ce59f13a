"""The kernel's OOM killer, as the kubelet reports it: a model server that needs more memory than its limit.

With ``settings.oom_memory_needed`` set (a quantity such as "1Gi"), a ``kserve-container`` whose
``limits.memory`` is below it is killed as soon as it starts: exit code 137, ``lastState.terminated.reason``
OOMKilled, then ``state.waiting`` CrashLoopBackOff with the pod Ready=False/ContainersNotReady and a
Warning BackOff Event, and it stays there (no restart loop: one crash is all the evidence anyone reads).
A container without a memory limit is never killed here.

The kill supersedes the kubelet stand-in's "container became Ready" timer (pods.py schedules it under
the key ``pod/<uid>/ready``; an earlier action with the same key wins), so the pod never flickers Ready.
Should that timer run anyway, the pod is marked not ready again on the next event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..resources import PODS
from ..store import Event, now_rfc3339
from .common import is_deleting, memory_bytes
from .conditions import put
from .framework import Reconciler, Request

Obj = dict[str, Any]
KUBELET = "kubelet"
CONTAINER = "kserve-container"
OOM_EXIT_CODE = 137  # 128 + SIGKILL


def oom_killed(status: Obj) -> bool:
    return ((status.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled"


class OomKiller(Reconciler):
    name = "oom-killer"
    watches = ("/pods",)

    def requests_for(self, event: Event) -> Iterable[Request]:
        if self.settings.oom_memory_needed is None:
            return ()
        return super().requests_for(event)

    def _too_small(self, pod: Obj) -> bool:
        needed = memory_bytes(self.settings.oom_memory_needed)
        for container in (pod.get("spec") or {}).get("containers") or []:
            if container.get("name") == CONTAINER:
                limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
                return limit is not None and memory_bytes(limit) < needed
        return False

    def reconcile(self, namespace: str, name: str) -> None:
        pod = self.store.find(PODS, namespace, name)
        if pod is None or is_deleting(pod) or self.settings.oom_memory_needed is None or not self._too_small(pod):
            return
        uid = str(pod["metadata"]["uid"])
        status = next((cs for cs in (pod.get("status") or {}).get("containerStatuses") or []
                       if cs.get("name") == CONTAINER), None)
        if status is None:
            return
        if oom_killed(status):
            ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                        for c in (pod.get("status") or {}).get("conditions") or [])
            if ready or status.get("ready"):
                self._mutate(namespace, name, uid, self._not_ready)
            return
        if "running" in (status.get("state") or {}):
            self.mgr.after(0, lambda: self._kill(namespace, name, uid), key=f"pod/{uid}/ready")

    def _mutate(self, namespace: str, name: str, uid: str, change: Any) -> None:
        def guarded(obj: Obj) -> None:
            if str(obj["metadata"].get("uid")) == uid and not is_deleting(obj):
                change(obj)
        self.store.mutate(PODS, namespace, name, guarded, subresource="status", manager=KUBELET)

    @staticmethod
    def _not_ready(obj: Obj) -> None:
        status = obj.setdefault("status", {})
        for cs in status.get("containerStatuses") or []:
            if cs.get("name") == CONTAINER:
                cs["ready"] = False
        conds = status.setdefault("conditions", [])
        for kind in ("Ready", "ContainersReady"):
            put(conds, kind, "False", "ContainersNotReady", f"containers with unready status: [{CONTAINER}]",
                extra={"lastProbeTime": None})

    def _kill(self, namespace: str, name: str, uid: str) -> None:
        pod = self.store.find(PODS, namespace, name)
        if pod is None or str(pod["metadata"].get("uid")) != uid or is_deleting(pod):
            return
        backoff = f"back-off 10s restarting failed container={CONTAINER} pod={name}_{namespace}({uid})"

        def killed(obj: Obj) -> None:
            for cs in (obj.get("status") or {}).get("containerStatuses") or []:
                if cs.get("name") != CONTAINER or oom_killed(cs):
                    continue
                running = (cs.get("state") or {}).get("running") or {}
                terminated = {"exitCode": OOM_EXIT_CODE, "reason": "OOMKilled", "finishedAt": now_rfc3339(),
                              "startedAt": running.get("startedAt", now_rfc3339()),
                              "containerID": cs.get("containerID", "")}
                cs.update(state={"waiting": {"reason": "CrashLoopBackOff", "message": backoff}},
                          lastState={"terminated": terminated}, ready=False, started=False,
                          restartCount=int(cs.get("restartCount") or 0) + 1)
            self._not_ready(obj)
        self._mutate(namespace, name, uid, killed)
        self.mgr.events.record(pod, "Warning", "BackOff", f"Back-off restarting failed container {CONTAINER} in pod "
                               f"{name}_{namespace}({uid})", KUBELET, field_path=f"spec.containers{{{CONTAINER}}}")
