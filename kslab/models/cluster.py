"""How to reach a cluster, and where a tool's output lines go: values every layer passes around."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

LineSink = Callable[[str], None]
ClusterEventSink = Callable[[str, str], None]  # (state, detail): "create"/"created"/"reuse"/"delete", what


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach a cluster: a kubeconfig file and a context in it (None = the client's default)."""

    kubeconfig: str | None
    context: str | None


@dataclass(frozen=True)
class ClusterUp:
    """What Provider.up() left: how to reach the cluster, and whether kslab created it just now."""

    access: ClusterAccess
    created: bool
