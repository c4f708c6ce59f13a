"""The node's container runtime for images loaded onto it: run-to-completion pods really run, as subprocesses.

``cluster.node.load_image(image, bin_dir)`` is this fake's ``kind load docker-image``: a pod with
``restartPolicy`` Never/OnFailure and one container of a loaded image is run by the kubelet stand-in
(pods.py) as a local process: ``command + args``, PATH starting at ``bin_dir``, the container's env
(``value`` and ``fieldRef`` resolved like the kubelet does), HOSTNAME, an empty working directory. Names
registered with ``cluster.node.register_service(host, base_url)`` resolve to the local server
(node_python/sitecustomize.py). Stdout and stderr go, line by line, to the container log (pods/log).
On exit the container is ``terminated`` (exitCode, reason Completed/Error) and the pod Succeeded or
Failed with Ready=False (PodCompleted/PodFailed). Deleting the pod, or stopping the controllers,
sends SIGTERM, then SIGKILL after a short grace period; nothing outlives the fake cluster.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from ..resources import PODS
from ..store import now_rfc3339
from .conditions import put

Obj = dict[str, Any]
KUBELET = "kubelet"
SITE_DIR = Path(__file__).resolve().parents[1] / "node_python"
GRACE_S = 2.0
POLL_S = 0.1
_FIELD = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")


def field_value(pod: Obj, path: str) -> str:
    """The value of a downward-API ``fieldRef.fieldPath`` for this pod ("" when unset)."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    match = _FIELD.match(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
              "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"), "status.podIP": status.get("podIP"),
              "status.hostIP": status.get("hostIP")}
    return str(simple.get(path) or "")


class ContainerRuns:
    def __init__(self, mgr: Any) -> None:
        self.mgr = mgr
        self.store = mgr.store

    def claims(self, pod: Obj) -> bool:
        spec = pod.get("spec") or {}
        containers = spec.get("containers") or []
        return (spec.get("restartPolicy") in ("Never", "OnFailure") and len(containers) == 1
                and bool(containers[0].get("command")) and self.mgr.node.image_bin(containers[0].get("image", ""))
                is not None)

    def start(self, namespace: str, name: str, uid: str) -> None:
        threading.Thread(target=self._run, args=(namespace, name, uid), name=f"fake-node-{name}",
                         daemon=True).start()

    # -- one container -----------------------------------------------------------------------
    def _env(self, pod: Obj, container: Obj, home: str) -> dict[str, str]:
        bin_dir = self.mgr.node.image_bin(container.get("image", "")) or ""
        spec = pod.get("spec") or {}
        env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": home,
               "HOSTNAME": str(spec.get("hostname") or pod["metadata"]["name"]),
               "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
        for var in container.get("env") or []:
            source = (var.get("valueFrom") or {}).get("fieldRef")
            env[var["name"]] = field_value(pod, source["fieldPath"]) if source else str(var.get("value", ""))
        services = self.mgr.node.service_map()
        if services:
            env["PYTHONPATH"] = str(SITE_DIR)
            env["FAKECLUSTER_SERVICES"] = json.dumps(services)
        return env

    def _gone(self, namespace: str, name: str, uid: str) -> bool:
        pod = self.store.find(PODS, namespace, name)
        return pod is None or str(pod["metadata"].get("uid")) != uid or bool(pod["metadata"].get("deletionTimestamp"))

    def _run(self, namespace: str, name: str, uid: str) -> None:
        pod = self.store.find(PODS, namespace, name)
        if pod is None or str(pod["metadata"].get("uid")) != uid:
            return
        container = pod["spec"]["containers"][0]
        started = now_rfc3339()
        workdir = tempfile.mkdtemp(prefix=f"fake-pod-{name}-")
        try:
            process = subprocess.Popen([*container.get("command", []), *container.get("args", [])],
                                       env=self._env(pod, container, workdir), cwd=workdir, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            message = f'failed to create containerd task: exec: "{container["command"][0]}": {exc.strerror}'
            self._terminated(namespace, name, uid, 128, "StartError", started, message)
            return
        assert process.stdout is not None
        pump = threading.Thread(target=self._pump, args=(process.stdout, namespace, name, container["name"]),
                                daemon=True)
        pump.start()
        stopped = self._supervise(process, namespace, name, uid)
        pump.join(GRACE_S)
        shutil.rmtree(workdir, ignore_errors=True)
        if not stopped:
            code = process.returncode
            exit_code = code if code >= 0 else 128 - code
            self._terminated(namespace, name, uid, exit_code, "Completed" if exit_code == 0 else "Error", started)

    def _supervise(self, process: subprocess.Popen[bytes], namespace: str, name: str, uid: str) -> bool:
        """Wait for the process; True when it was stopped because its pod went away or the node stopped."""
        while True:
            try:
                process.wait(POLL_S)
                return False
            except subprocess.TimeoutExpired:
                pass
            if not self.mgr.running or self._gone(namespace, name, uid):
                break
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return True

    def _pump(self, stream: IO[bytes], namespace: str, name: str, container: str) -> None:
        for line in iter(stream.readline, b""):
            self.mgr.node.append_log(namespace, name, container, line.decode("utf-8", "replace"))
        stream.close()

    def _terminated(self, namespace: str, name: str, uid: str, exit_code: int, reason: str, started: str,
                    message: str = "") -> None:
        phase = "Succeeded" if exit_code == 0 else "Failed"
        condition_reason = "PodCompleted" if exit_code == 0 else "PodFailed"

        def change(obj: Obj) -> None:
            if str(obj["metadata"].get("uid")) != uid:
                return
            status = obj.setdefault("status", {})
            status["phase"] = phase
            terminated = {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": now_rfc3339()}
            if message:
                terminated["message"] = message
            for cs in status.get("containerStatuses") or []:
                terminated.setdefault("containerID", cs.get("containerID", ""))
                cs.update(state={"terminated": terminated}, ready=False, started=False)
            conds = status.setdefault("conditions", [])
            put(conds, "PodReadyToStartContainers", "False", extra={"lastProbeTime": None})
            for kind in ("Ready", "ContainersReady"):
                put(conds, kind, "False", condition_reason, extra={"lastProbeTime": None})
        self.store.mutate(PODS, namespace, name, change, subresource="status", manager=KUBELET)
