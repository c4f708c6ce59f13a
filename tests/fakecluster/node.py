"""Node-backed subresources: ``pods/log``, ``pods/proxy``, ``services/proxy``, ``pods/portforward``.

What a kubelet would answer, taken from ``cluster.node`` (NodeRuntime): recorded container logs and
the local HTTP servers that stand in for pod ports. Messages copy the real apiserver/kubelet text.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .resources import by_key
from .selectors import matches_selector
from .store import Store

Obj = dict[str, Any]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never use environment proxies
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host",
               "content-length", "accept-encoding", "proxy-authorization", "proxy-connection"}


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str


def _containers(pod: Obj, kind: str = "containers") -> list[str]:
    return [c.get("name", "") for c in (pod.get("spec") or {}).get(kind) or []]


def _waiting_reason(pod: Obj, container: str) -> str:
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                waiting = (cs.get("state") or {}).get("waiting")
                if waiting and waiting.get("reason"):
                    return str(waiting["reason"])
    return "PodInitializing"


def pod_log(store: Store, node: Any, namespace: str, name: str, query: dict[str, str]) -> Reply:
    pod = store.get(by_key("/pods"), namespace, name)
    containers, inits = _containers(pod), _containers(pod, "initContainers")
    container = query.get("container")
    if not container:
        default = ((pod.get("metadata") or {}).get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
        if len(containers) == 1:
            container = containers[0]
        elif default in containers:
            container = default
        else:
            message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
            raise ApiError.bad_request(message)
    ephemeral = _containers(pod, "ephemeralContainers")
    if container not in containers + inits + ephemeral:
        raise ApiError.bad_request(f"container {container} is not valid for pod {name}")
    if query.get("previous") == "true":
        raise ApiError.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
    text = node.log(namespace, name, container)
    if text is None:
        raise ApiError.bad_request(f'container "{container}" in pod "{name}" is waiting to start: '
                                   f"{_waiting_reason(pod, container)}")
    tail = query.get("tailLines")
    if tail is not None:
        if not tail.lstrip("-").isdigit():
            raise ApiError.bad_request(f"invalid tailLines: {tail!r}")
        count = int(tail)
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-count:]) if count > 0 else ("" if count == 0 else text)
    data = text.encode()
    limit = query.get("limitBytes")
    if limit and limit.isdigit():
        data = data[: int(limit)]
    return Reply(200, data, "text/plain")


def _split_port(name: str) -> tuple[str, str]:
    """'pod', 'pod:8080' or 'http:pod:8080' -> (name, port)."""
    parts = name.split(":")
    if len(parts) == 3:
        return parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1]
    return name, ""


def _pod_port(pod: Obj, port: str) -> int | None:
    ports = [p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
    if not port:
        return int(ports[0]["containerPort"]) if ports else None
    if port.isdigit():
        return int(port)
    for p in ports:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise ApiError.bad_request(f'port "{port}" not found in pod {pod["metadata"]["name"]}')


def _unreachable(pod: Obj, port: int | None) -> ApiError:
    ip = (pod.get("status") or {}).get("podIP") or "10.244.0.5"
    where = f"{ip}:{port}" if port else ip
    return ApiError(503, "ServiceUnavailable", f"error trying to reach service: dial tcp {where}: connect: "
                    "connection refused")


def forward(base_url: str, method: str, path: str, query: str, body: bytes | None,
            headers: dict[str, str]) -> Reply:
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    if query:
        url += "?" + query
    send_headers = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
    request = urllib.request.Request(url, data=body if method not in ("GET", "HEAD") else None,
                                     headers=send_headers, method=method)
    try:
        with _OPENER.open(request, timeout=30) as resp:
            return Reply(resp.status, resp.read(), resp.headers.get("Content-Type", "application/octet-stream"))
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.read(), err.headers.get("Content-Type", "text/plain"))
    except (urllib.error.URLError, OSError) as err:
        host = urllib.parse.urlsplit(base_url).netloc
        raise ApiError(503, "ServiceUnavailable", f"error trying to reach service: dial tcp {host}: {err}") from err


def pod_proxy(store: Store, node: Any, namespace: str, name_port: str, method: str, path: str, query: str,
              body: bytes | None, headers: dict[str, str]) -> Reply:
    name, port_text = _split_port(name_port)
    pod = store.get(by_key("/pods"), namespace, name)
    port = _pod_port(pod, port_text)
    target = node.proxy_target(namespace, name, port) if port is not None else None
    if target is None:
        raise _unreachable(pod, port)
    return forward(target, method, path, query, body, headers)


def service_proxy(store: Store, node: Any, namespace: str, name_port: str, method: str, path: str, query: str,
                  body: bytes | None, headers: dict[str, str]) -> Reply:
    """Pick a ready pod behind the Service and forward to its target port."""
    name, port_text = _split_port(name_port)
    svc = store.get(by_key("/services"), namespace, name)
    spec = svc.get("spec") or {}
    ports = spec.get("ports") or []
    chosen = None
    for p in ports:
        if not port_text or port_text in (str(p.get("port")), p.get("name")):
            chosen = p
            break
    if chosen is None:
        raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}:{port_text}"')
    pods, _ = store.list(by_key("/pods"), namespace)
    backends = [p for p in pods if matches_selector((p["metadata"].get("labels") or {}), spec.get("selector") or {})
                and (p.get("status") or {}).get("phase") == "Running"]
    if not backends:
        raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')
    target_port = chosen.get("targetPort", chosen.get("port"))
    pod = backends[0]
    port = _pod_port(pod, str(target_port))
    target = node.proxy_target(namespace, pod["metadata"]["name"], port) if port is not None else None
    if target is None:
        raise _unreachable(pod, port)
    return forward(target, method, path, query, body, headers)


def upgrade_required() -> ApiError:
    """pods/portforward, pods/exec, pods/attach over plain HTTP: kubectl then fails cleanly."""
    return ApiError.bad_request("Upgrade request required")
