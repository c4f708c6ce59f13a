"""The scheduler and kubelet stand-ins: bind pods that fit the node, then run their containers.

Scheduling compares the pod's resource requests (max of the init containers vs. the sum of the
app containers, requests falling back to limits) with what the node's allocatable leaves free.
A pod that does not fit stays Pending with PodScheduled=False/Unschedulable and a FailedScheduling
Event; it is retried whenever a pod goes away or a node changes. A bound pod runs its init
containers (storage-initializer fails for ``settings.failing_storage_uris`` and for gs:// URIs that
``settings.public_storage`` does not hold, and goes into
CrashLoopBackOff), then its containers start and become Ready. Logs go to the NodeRuntime.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from ..resources import NODES, PODS
from ..store import Event, now_rfc3339
from . import container_logs
from .common import cpu_millis, is_deleting, memory_bytes
from .conditions import put
from .container_runs import ContainerRuns
from .framework import Reconciler, Request
from .image_pulls import ImagePulls

Obj = dict[str, Any]
SCHEDULER = "default-scheduler"
KUBELET = "kubelet"
HOST_IP = "172.18.0.2"


def _resource(container: Obj, key: str) -> str | None:
    res = container.get("resources") or {}
    value = (res.get("requests") or {}).get(key)
    return value if value is not None else (res.get("limits") or {}).get(key)


def pod_requests(pod: Obj) -> tuple[int, int]:
    """(millicores, bytes) the scheduler accounts for this pod."""
    spec = pod.get("spec") or {}
    app_cpu = sum(cpu_millis(_resource(c, "cpu")) for c in spec.get("containers") or [])
    app_mem = sum(memory_bytes(_resource(c, "memory")) for c in spec.get("containers") or [])
    inits = spec.get("initContainers") or []
    init_cpu = max((cpu_millis(_resource(c, "cpu")) for c in inits), default=0)
    init_mem = max((memory_bytes(_resource(c, "memory")) for c in inits), default=0)
    return max(app_cpu, init_cpu), max(app_mem, init_mem)


def _image_id(image: str) -> str:
    repo = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image.split("@")[0]
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _container_id(pod_uid: str, name: str, attempt: int) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{name}/{attempt}".encode()).hexdigest()


class PodLifecycle(Reconciler):
    name = "pods"
    watches = ("/pods", "/nodes")

    def __init__(self, mgr: Any) -> None:
        super().__init__(mgr)
        self._started: set[str] = set()
        self._bound: dict[str, tuple[str, int, int]] = {}  # pod uid -> (node, millicores, bytes)
        self._bound_loaded = False
        self.runs = ContainerRuns(mgr)  # run-to-completion pods of images loaded on the node really run
        self.pulls = ImagePulls(mgr)  # images neither on the node nor published: ErrImagePull/ImagePullBackOff

    # -- dispatch ---------------------------------------------------------------------------
    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == "/pods":
            if event.type == "DELETED":
                uid = str(event.object["metadata"].get("uid"))
                self._started.discard(uid)
                self._bound.pop(uid, None)
                return self._unscheduled()
            return [(event.namespace, str(event.object["metadata"]["name"]))]
        return self._unscheduled()

    def _unscheduled(self) -> list[Request]:
        pods, _ = self.store.list(PODS)
        waiting = [p for p in pods if not (p.get("spec") or {}).get("nodeName") and not is_deleting(p)
                   and (p.get("status") or {}).get("phase", "Pending") == "Pending"]
        waiting.sort(key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"]))
        return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in waiting]

    def reconcile(self, namespace: str, name: str) -> None:
        pod = self.store.find(PODS, namespace, name)
        if pod is None or is_deleting(pod):
            return
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return
        if (pod.get("spec") or {}).get("nodeName"):
            uid = str(pod["metadata"]["uid"])
            self._bound.setdefault(uid, (pod["spec"]["nodeName"], *pod_requests(pod)))
            if uid not in self._started:
                self._started.add(uid)
                self.mgr.after(self.settings.sandbox_delay, lambda: self._sandbox(namespace, name, uid),
                               key=f"pod/{uid}")
            return
        self._schedule(pod)

    # -- scheduler ---------------------------------------------------------------------------
    def _schedule(self, pod: Obj) -> None:
        cpu, mem = pod_requests(pod)
        nodes, _ = self.store.list(NODES)
        nodes = [n for n in nodes if not (n.get("spec") or {}).get("unschedulable")]
        short_cpu = short_mem = 0
        for node in nodes:
            alloc = (node.get("status") or {}).get("allocatable") or {}
            used_cpu, used_mem = self._used(node["metadata"]["name"])
            lacks_cpu = used_cpu + cpu > cpu_millis(alloc.get("cpu", "0"))
            lacks_mem = used_mem + mem > memory_bytes(alloc.get("memory", "0"))
            if not lacks_cpu and not lacks_mem:
                self._bind(pod, node)
                return
            short_cpu += lacks_cpu
            short_mem += lacks_mem
        total = len(nodes)
        reasons = ([f"{short_cpu} Insufficient cpu"] if short_cpu else []) + \
                  ([f"{short_mem} Insufficient memory"] if short_mem else [])
        message = (f"0/{total} nodes are available: {', '.join(reasons) or f'{total} node(s) were unschedulable'}. "
                   f"preemption: 0/{total} nodes are available: {total} No preemption victims found for incoming "
                   "pod.")

        def unschedulable(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["phase"] = "Pending"
            conds = st.setdefault("conditions", [])
            put(conds, "PodScheduled", "False", "Unschedulable", message, extra={"lastProbeTime": None})
        self.store.mutate(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"], unschedulable,
                          subresource="status", manager=SCHEDULER)
        self.mgr.events.record(pod, "Warning", "FailedScheduling", message, SCHEDULER)

    def _used(self, node_name: str) -> tuple[int, int]:
        """Requests of the pods bound to the node (kept in memory; loaded from the store once)."""
        if not self._bound_loaded:
            self._bound_loaded = True
            pods, _ = self.store.list(PODS)
            for p in pods:
                node = (p.get("spec") or {}).get("nodeName")
                if node and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                    self._bound[str(p["metadata"]["uid"])] = (node, *pod_requests(p))
        cpu = sum(c for n, c, _ in self._bound.values() if n == node_name)
        mem = sum(m for n, _, m in self._bound.values() if n == node_name)
        return cpu, mem

    def _bind(self, pod: Obj, node: Obj) -> None:
        ns, name, node_name = pod["metadata"]["namespace"], pod["metadata"]["name"], node["metadata"]["name"]

        def bind(obj: Obj) -> None:
            obj["spec"]["nodeName"] = node_name
        bound = self.store.mutate(PODS, ns, name, bind, manager=SCHEDULER)
        if bound is None:
            return
        self._bound[str(bound["metadata"]["uid"])] = (node_name, *pod_requests(bound))
        self.mgr.events.record(bound, "Normal", "Scheduled", f"Successfully assigned {ns}/{name} to {node_name}",
                               SCHEDULER)
        spec = bound["spec"]
        inits = [c["name"] for c in spec.get("initContainers") or []]
        apps = [c["name"] for c in spec.get("containers") or []]

        def created(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st.update({"phase": "Pending", "hostIP": HOST_IP, "hostIPs": [{"ip": HOST_IP}], "startTime": now_rfc3339()})
            conds = st.setdefault("conditions", [])
            put(conds, "PodScheduled", "True", extra={"lastProbeTime": None})
            put(conds, "PodReadyToStartContainers", "False", extra={"lastProbeTime": None})
            if inits:
                put(conds, "Initialized", "False", "ContainersNotInitialized",
                    f"containers with incomplete status: [{' '.join(inits)}]", extra={"lastProbeTime": None})
            else:
                put(conds, "Initialized", "True", extra={"lastProbeTime": None})
            self._not_ready(conds, apps)
            st["initContainerStatuses"] = [self._waiting(c, "PodInitializing")
                                           for c in spec.get("initContainers") or []]
            st["containerStatuses"] = [self._waiting(c, "PodInitializing" if inits else "ContainerCreating")
                                       for c in spec.get("containers") or []]
            if not st["initContainerStatuses"]:
                st.pop("initContainerStatuses")
        self.store.mutate(PODS, ns, name, created, subresource="status", manager=KUBELET)

    # -- kubelet -----------------------------------------------------------------------------
    @staticmethod
    def _not_ready(conds: list[Obj], apps: list[str]) -> None:
        msg = f"containers with unready status: [{' '.join(apps)}]"
        put(conds, "Ready", "False", "ContainersNotReady", msg, extra={"lastProbeTime": None})
        put(conds, "ContainersReady", "False", "ContainersNotReady", msg, extra={"lastProbeTime": None})

    @staticmethod
    def _waiting(container: Obj, reason: str) -> Obj:
        return {"name": container["name"], "image": container.get("image", ""), "imageID": "",
                "ready": False, "restartCount": 0, "started": False, "state": {"waiting": {"reason": reason}},
                "lastState": {}}

    def _live(self, namespace: str, name: str, uid: str) -> Obj | None:
        pod = self.store.find(PODS, namespace, name)
        if pod is None or str(pod["metadata"].get("uid")) != uid or is_deleting(pod):
            return None
        return pod

    def _update(self, namespace: str, name: str, uid: str, change: Any) -> Obj | None:
        def guarded(obj: Obj) -> None:
            if str(obj["metadata"].get("uid")) == uid and not is_deleting(obj):
                change(obj)
        return self.store.mutate(PODS, namespace, name, guarded, subresource="status", manager=KUBELET)

    def _sandbox(self, namespace: str, name: str, uid: str) -> None:
        """The pod sandbox is up: it gets an IP, then the first init container (or the app) starts."""
        pod = self._live(namespace, name, uid)
        if pod is None:
            return
        ip = self.mgr.next_pod_ip()

        def sandbox(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            st["podIP"], st["podIPs"] = ip, [{"ip": ip}]
            put(st.setdefault("conditions", []), "PodReadyToStartContainers", "True", extra={"lastProbeTime": None})
        if pod["spec"].get("initContainers"):
            self._run_init(namespace, name, uid, 0, attempt=0, also=sandbox, pod=pod)
        else:
            self._start_apps(namespace, name, uid, also=sandbox, pod=pod)

    def _set_container(self, obj: Obj, key: str, index: int, **fields: Any) -> None:
        statuses = obj.setdefault("status", {}).setdefault(key, [])
        statuses[index].update(fields)

    def _run_init(self, namespace: str, name: str, uid: str, index: int, attempt: int, also: Any = None,
                  pod: Obj | None = None) -> None:
        pod = pod or self._live(namespace, name, uid)
        if pod is None:
            return
        container = pod["spec"]["initContainers"][index]
        started = now_rfc3339()
        if attempt == 0:
            failure = self.pulls.failure(container)
            if failure is not None:
                if also is not None:
                    self._update(namespace, name, uid, also)
                self.pulls.hold(pod, "initContainerStatuses", index, failure,
                                lambda: self._run_init(namespace, name, uid, index, attempt=0))
                return
            self._container_events(pod, container, "initContainers", index)

        def running(obj: Obj) -> None:
            if also is not None:
                also(obj)
            self._set_container(obj, "initContainerStatuses", index, state={"running": {"startedAt": started}},
                                started=True, imageID=_image_id(container.get("image", "")),
                                containerID=_container_id(uid, container["name"], attempt))
        self._update(namespace, name, uid, running)
        self.mgr.after(self.settings.init_container_seconds,
                       lambda: self._finish_init(namespace, name, uid, index, attempt, started),
                       key=f"pod/{uid}/init/{index}/{attempt}")

    def _finish_init(self, namespace: str, name: str, uid: str, index: int, attempt: int, started: str) -> None:
        pod = self._live(namespace, name, uid)
        if pod is None:
            return
        container = pod["spec"]["initContainers"][index]
        uri = container_logs.storage_uri_of(container) if container["name"] == "storage-initializer" else ""
        cid = _container_id(uid, container["name"], attempt)
        store_has = self.settings.public_storage
        missing = uri.startswith("gs://") and store_has is not None and not store_has(uri)
        if uri and (uri in self.settings.failing_storage_uris or missing):
            text = container_logs.storage_initializer_failure(uri)
            self.mgr.node.append_log(namespace, name, container["name"], text)
            terminated = {"exitCode": 1, "reason": "Error", "message": text, "startedAt": started,
                          "finishedAt": now_rfc3339(), "containerID": cid}

            def failed(obj: Obj) -> None:
                self._set_container(obj, "initContainerStatuses", index, state={"terminated": terminated},
                                    ready=False, started=False, restartCount=attempt)
            self._update(namespace, name, uid, failed)
            self.mgr.after(self.settings.crash_backoff * 2 ** attempt,
                           lambda: self._back_off(namespace, name, uid, index, attempt, terminated),
                           key=f"pod/{uid}/backoff/{attempt}")
            return
        if uri:
            self.mgr.node.append_log(namespace, name, container["name"],
                                     container_logs.storage_initializer_success(uri))
        done = {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": now_rfc3339(),
                "containerID": cid}

        def completed(obj: Obj) -> None:
            self._set_container(obj, "initContainerStatuses", index, state={"terminated": done}, ready=True,
                                started=False)
        self._update(namespace, name, uid, completed)
        if index + 1 < len(pod["spec"]["initContainers"]):
            self._run_init(namespace, name, uid, index + 1, attempt=0)
        else:
            self._start_apps(namespace, name, uid)

    def _back_off(self, namespace: str, name: str, uid: str, index: int, attempt: int, terminated: Obj) -> None:
        pod = self._live(namespace, name, uid)
        if pod is None:
            return
        container = pod["spec"]["initContainers"][index]
        seconds = min(10 * 2 ** attempt, 300)
        message = (f"back-off {seconds}s restarting failed container={container['name']} "
                   f"pod={name}_{namespace}({uid})")

        def crash_loop(obj: Obj) -> None:
            self._set_container(obj, "initContainerStatuses", index,
                                state={"waiting": {"reason": "CrashLoopBackOff", "message": message}},
                                lastState={"terminated": terminated}, restartCount=attempt + 1, started=False)
        self._update(namespace, name, uid, crash_loop)
        self.mgr.events.record(pod, "Warning", "BackOff",
                               f"Back-off restarting failed container {container['name']} in pod "
                               f"{name}_{namespace}({uid})", KUBELET,
                               field_path=f"spec.initContainers{{{container['name']}}}")
        if attempt + 1 < self.settings.max_crash_restarts:
            self.mgr.after(self.settings.crash_backoff * 2 ** attempt,
                           lambda: self._run_init(namespace, name, uid, index, attempt + 1),
                           key=f"pod/{uid}/restart/{attempt + 1}")

    def _container_events(self, pod: Obj, container: Obj, kind: str, index: int) -> None:
        path = f"spec.{kind}{{{container['name']}}}"
        image = container.get("image", "")
        events = self.mgr.events
        events.record(pod, "Normal", "Pulled", f'Container image "{image}" already present on machine', KUBELET, path)
        events.record(pod, "Normal", "Created", f"Created container: {container['name']}", KUBELET, path)
        events.record(pod, "Normal", "Started", f"Started container {container['name']}", KUBELET, path)

    def _start_apps(self, namespace: str, name: str, uid: str, also: Any = None, pod: Obj | None = None) -> None:
        pod = pod or self._live(namespace, name, uid)
        if pod is None:
            return
        started = now_rfc3339()
        containers = pod["spec"].get("containers") or []
        blocked = [(i, f) for i, c in enumerate(containers) if (f := self.pulls.failure(c)) is not None]
        if blocked:
            def initialized(obj: Obj) -> None:
                if also is not None:
                    also(obj)
                put(obj.setdefault("status", {}).setdefault("conditions", []), "Initialized", "True",
                    extra={"lastProbeTime": None})
            self._update(namespace, name, uid, initialized)
            first, failure = blocked[0]
            self.pulls.hold(pod, "containerStatuses", first, failure,
                            lambda: self._start_apps(namespace, name, uid))
            return
        runs = self.runs.claims(pod)
        for index, container in enumerate(containers):
            self._container_events(pod, container, "containers", index)
            if not runs:
                self.mgr.node.append_log(namespace, name, container["name"],
                                         container_logs.container_startup(pod, container))

        def running(obj: Obj) -> None:
            if also is not None:
                also(obj)
            st = obj.setdefault("status", {})
            st["phase"] = "Running"
            put(st.setdefault("conditions", []), "Initialized", "True", extra={"lastProbeTime": None})
            st["containerStatuses"] = [
                {"name": c["name"], "image": c.get("image", ""), "imageID": _image_id(c.get("image", "")),
                 "containerID": _container_id(uid, c["name"], 0), "ready": False, "restartCount": 0,
                 "started": True, "state": {"running": {"startedAt": started}}, "lastState": {}}
                for c in containers]
        self._update(namespace, name, uid, running)
        if runs:
            self.runs.start(namespace, name, uid)
        self.mgr.after(self.settings.container_start_delay, lambda: self._ready(namespace, name, uid),
                       key=f"pod/{uid}/ready")

    def _ready(self, namespace: str, name: str, uid: str) -> None:
        def ready(obj: Obj) -> None:
            st = obj.setdefault("status", {})
            if st.get("phase") != "Running":
                return  # the container already ran to completion
            for cs in st.get("containerStatuses") or []:
                cs["ready"] = True
            conds = st.setdefault("conditions", [])
            put(conds, "Ready", "True", extra={"lastProbeTime": None})
            put(conds, "ContainersReady", "True", extra={"lastProbeTime": None})
        self._update(namespace, name, uid, ready)


def pod_is_ready(pod: Obj) -> bool:
    st = pod.get("status") or {}
    if st.get("phase") != "Running" or is_deleting(pod):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
