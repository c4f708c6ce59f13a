"""Cluster facts for the run record's ``cluster`` key: server version, nodes, kubelets, allocatable CPU/memory."""

from __future__ import annotations

from typing import Any

from kslab.kube.client import Kube
from kslab.kube.quantity import cpu_millis, format_cpu, format_memory, memory_bytes
from kslab.kube.resources import NODE

ROLE_PREFIX = "node-role.kubernetes.io/"


def _node(item: dict[str, Any]) -> dict[str, Any]:
    meta, status = item.get("metadata") or {}, item.get("status") or {}
    info, allocatable = status.get("nodeInfo") or {}, status.get("allocatable") or {}
    ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), "Unknown")
    return {"name": meta.get("name"), "ready": ready,
            "roles": sorted(k[len(ROLE_PREFIX):] for k in meta.get("labels") or {} if k.startswith(ROLE_PREFIX)),
            "kubelet": info.get("kubeletVersion"), "container_runtime": info.get("containerRuntimeVersion"),
            "os_image": info.get("osImage"), "architecture": info.get("architecture"),
            "cpu": allocatable.get("cpu"), "memory": allocatable.get("memory")}


def cluster_facts(kube: Kube) -> dict[str, Any]:
    """What the cluster is: the API server's version and each node with its allocatable CPU and memory."""
    version = kube.version()
    items, _ = kube.list(NODE)
    nodes = [_node(item) for item in items]
    return {
        "kubernetes": version.get("git_version"), "platform": version.get("platform"),
        "nodes": len(nodes), "nodes_ready": sum(n["ready"] == "True" for n in nodes),
        "kubelet_versions": sorted({str(n["kubelet"]) for n in nodes if n["kubelet"]}),
        "allocatable_cpu": format_cpu(sum(cpu_millis(n["cpu"]) for n in nodes)),
        "allocatable_memory": format_memory(sum(memory_bytes(n["memory"]) for n in nodes)),
        "node_list": nodes,
    }
