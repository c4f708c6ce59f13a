"""kubectl wrapper: ``port-forward`` and ``cp`` (kubectl_cp.py) are emulated, every other verb ``exec``s the real
kubectl unchanged.

The fake API server cannot speak kubectl's SPDY/WebSocket port-forward protocol, so this wrapper does
what kubectl does up to the stream: resolve TYPE/NAME through the API (Service → selector → a Running
pod, Deployment → selector → pod, or the pod itself), translate the service port to the container
port, bind the local listeners and print kubectl's lines. Each accepted connection is relayed to the
address the fake node registered for that pod port (``GET /_fake/pods/<ns>/<pod>/ports/<port>``).
Failure texts and exit codes copy kubectl v1.37 (see kubectl_forward.py for the relay side).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from .common import Api, ApiFailure, KubeconfigError, env_flag, parse_duration, record, resolve_context

USER_AGENT = "kubectl/v1.37.1 (linux/amd64) kubernetes/f78e722"
GLOBAL_VALUE_FLAGS = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server",
                      "--request-timeout", "--token", "--as", "--as-group", "--as-uid", "--cache-dir",
                      "--certificate-authority", "--client-certificate", "--client-key", "--tls-server-name",
                      "-v", "--v", "--vmodule", "--log-flush-frequency", "--profile", "--profile-output",
                      "--username", "--password", "--kuberc"}
PF_VALUE_FLAGS = {"--address", "--pod-running-timeout"}
_KINDS = {"pod": "pod", "pods": "pod", "po": "pod", "svc": "service", "service": "service", "services": "service",
          "deploy": "deployment", "deployment": "deployment", "deployments": "deployment",
          "deployment.apps": "deployment", "deployments.apps": "deployment"}


class KubectlError(Exception):
    """Printed as-is on stderr (already carrying kubectl's 'error: ' / 'Error from server' prefix)."""


def find_verb(argv: list[str]) -> str | None:
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return None
        if arg.startswith("-"):
            i += 2 if ("=" not in arg and arg in GLOBAL_VALUE_FLAGS) else 1
            continue
        return arg
    return None


def parse_command(argv: list[str], value_flags: frozenset[str] | set[str] = frozenset()
                  ) -> tuple[dict[str, str], list[str]]:
    """(flags, positionals) of a kubectl command line whose verb takes ``value_flags``; the verb is dropped.
    Short flags come back under their long names (namespace, server, container)."""
    flags: dict[str, str] = {}
    positionals: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, has_eq, inline = arg.partition("=")
        if arg.startswith("-") and (name in GLOBAL_VALUE_FLAGS or name in value_flags):
            value = inline if has_eq else (argv[i + 1] if i + 1 < len(argv) else "")
            flags[name.lstrip("-")] = value
            i += 1 if has_eq else 2
            continue
        if arg.startswith("-") and len(arg) > 2 and arg[:2] == "-n" and not arg.startswith("--"):
            flags["namespace"] = arg[2:]
        elif not arg.startswith("-"):
            positionals.append(arg)
        i += 1
    for short, long in (("n", "namespace"), ("s", "server"), ("c", "container")):
        if short in flags:
            flags[long] = flags.pop(short)
    return flags, positionals[1:]


def parse_port_forward(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    return parse_command(argv, PF_VALUE_FLAGS)


class Resolver:
    """kubectl's lookups for port-forward, against the fake API server."""

    def __init__(self, api: Api, namespace: str) -> None:
        self.api = api
        self.ns = namespace

    def _get(self, path: str, what: str, name: str) -> dict[str, Any]:
        try:
            return self.api.get(path)
        except ApiFailure as exc:
            if exc.status == 404 and self.api.find(f"/api/v1/namespaces/{self.ns}") is None:
                raise KubectlError(f'Error from server (NotFound): namespaces "{self.ns}" not found') from None
            if exc.status == 404:
                raise KubectlError(f'Error from server (NotFound): {what} "{name}" not found') from None
            raise _api_error(exc, self.api.server) from None

    def first_pod(self, selector: dict[str, str], timeout: float) -> dict[str, Any]:
        """GetFirstPod: the most 'active' pod matching the selector, waiting up to ``timeout`` for one."""
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        deadline = time.monotonic() + timeout
        while True:
            items = self.api.get(f"/api/v1/namespaces/{self.ns}/pods", labelSelector=label_selector).get("items", [])
            if items:
                return max(items, key=_activeness)
            if time.monotonic() >= deadline:
                raise KubectlError("error: timed out waiting for the condition")
            time.sleep(0.2)

    def target(self, ref: str, ports: list[str], pod_timeout: float) -> tuple[dict[str, Any], list[tuple[str, int]]]:
        """(pod, [(local port text, remote container port)]) for TYPE/NAME and the port specs."""
        kind, _, name = ref.rpartition("/")
        kind = _KINDS.get(kind.lower(), kind) if kind else "pod"
        service = None
        if kind == "service":
            service = self._get(f"/api/v1/namespaces/{self.ns}/services/{name}", "services", name)
            selector = (service.get("spec") or {}).get("selector")
            if not selector:
                raise KubectlError(f"error: invalid service '{name}': Service is defined without a selector")
            pod_name = self.first_pod(selector, pod_timeout)["metadata"]["name"]
        elif kind == "deployment":
            deploy = self._get(f"/apis/apps/v1/namespaces/{self.ns}/deployments/{name}", "deployments.apps", name)
            selector = ((deploy.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            pod_name = self.first_pod(selector, pod_timeout)["metadata"]["name"]
        elif kind == "pod":
            pod_name = name
        else:
            raise KubectlError(f'error: the server doesn\'t have a resource type "{kind}"')
        pod = self._get(f"/api/v1/namespaces/{self.ns}/pods/{pod_name}", "pods", pod_name)
        phase = (pod.get("status") or {}).get("phase", "")
        if phase != "Running":
            raise KubectlError(f"error: unable to forward port because pod is not running. Current status={phase}")
        return pod, [_translate(spec, service, pod) for spec in ports]


def _api_error(exc: ApiFailure, server: str) -> KubectlError:
    """kubectl's wording for a failed API call."""
    if exc.status == 0:
        host = server.split("://", 1)[-1]
        return KubectlError(f"The connection to the server {host} was refused - did you specify the right host "
                            "or port?")
    reason = exc.body.get("reason", "") if isinstance(exc.body, dict) else ""
    return KubectlError(f"Error from server ({reason}): {exc.message}")


def _activeness(pod: dict[str, Any]) -> tuple[int, int, int, str]:
    """Sort key like kubectl's ActivePods (reversed): assigned, Running, Ready rank higher."""
    status = pod.get("status") or {}
    phase_rank = {"Running": 2, "Unknown": 1, "Pending": 0}.get(status.get("phase", ""), 0)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return (1 if (pod.get("spec") or {}).get("nodeName") else 0, phase_rank, 1 if ready else 0,
            pod["metadata"].get("creationTimestamp", ""))


def _split_port(spec: str) -> tuple[str, str]:
    if ":" in spec:
        local, remote = spec.split(":", 1)
        return local, remote
    return spec, spec


def _container_port(pod: dict[str, Any], name: str) -> int:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return int(port["containerPort"])
    raise KubectlError(f"error: Pod '{pod['metadata']['name']}' does not have a named port '{name}'")


def _translate(spec: str, service: dict[str, Any] | None, pod: dict[str, Any]) -> tuple[str, int]:
    local, remote = _split_port(spec)
    if service is None:
        number = int(remote) if remote.isdigit() else _container_port(pod, remote)
        if local == remote and not remote.isdigit():
            local = str(number)
        return local, number
    svc_ports = (service.get("spec") or {}).get("ports") or []
    if remote.isdigit():
        port_number = int(remote)
    else:
        match = next((p for p in svc_ports if p.get("name") == remote), None)
        if match is None:
            raise KubectlError(f"error: Service '{service['metadata']['name']}' does not have a named port "
                               f"'{remote}'")
        port_number = int(match["port"])
        if local == remote:
            local = str(port_number)
    for svc_port in svc_ports:
        if int(svc_port.get("port", 0)) != port_number:
            continue
        target = svc_port.get("targetPort")
        if target in (None, 0, ""):
            return local, port_number
        if isinstance(target, int) or str(target).isdigit():
            return local, int(target)
        return local, _container_port(pod, str(target))
    raise KubectlError(f"error: Service {service['metadata']['name']} does not have a service port {port_number}")


def port_forward(argv: list[str]) -> int:
    flags, positionals = parse_port_forward(argv)
    if len(positionals) < 2:
        raise KubectlError("error: TYPE/NAME and list of ports are required for port-forward\n"
                           "See 'kubectl port-forward -h' for help and examples")
    try:
        server, ctx_namespace = resolve_context(flags.get("kubeconfig"), flags.get("context"))
    except KubeconfigError as exc:
        if not flags.get("server"):
            if str(exc) == "no context":
                raise KubectlError("The connection to the server localhost:8080 was refused - did you specify "
                                   "the right host or port?") from None
            raise KubectlError(f"error: {exc}") from None
        server, ctx_namespace = flags["server"], None
    server = flags.get("server") or server
    namespace = flags.get("namespace") or ctx_namespace or "default"
    api = Api(server, USER_AGENT, {"Kubectl-Command": "kubectl port-forward"})
    timeout = parse_duration(flags.get("pod-running-timeout", "1m0s"))
    try:
        pod, ports = Resolver(api, namespace).target(positionals[0], positionals[1:], timeout)
    except ApiFailure as exc:
        raise _api_error(exc, server) from None
    addresses = [a.strip() for a in flags.get("address", "localhost").split(",") if a.strip()]
    from .kubectl_forward import Forwarder

    return Forwarder(api, namespace, pod, ports, addresses).run()


def main(argv: list[str]) -> int:
    record("kubectl", argv)
    if find_verb(argv) == "cp":
        from .kubectl_cp import CopyError, copy

        try:
            return copy(argv)
        except CopyError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
    if find_verb(argv) != "port-forward" or env_flag("FAKE_KUBECTL_REAL_PORT_FORWARD"):
        real = os.environ.get("FAKE_REAL_KUBECTL")
        if not real:
            sys.stderr.write("fake kubectl: FAKE_REAL_KUBECTL is not set\n")
            return 2
        os.execv(real, [real, *argv])
    try:
        return port_forward(argv)
    except KubectlError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
