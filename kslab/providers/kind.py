"""kind clusters: config rendered from manifests/kind/cluster.yaml, kubeconfig kept in kslab's state dir."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.models.cluster import ClusterAccess, LineSink
from kslab.models.stack import StackRelease
from kslab.paths import manifests_dir
from kslab.providers.identity import KIND_CLUSTER_LABEL, container_ids
from kslab.providers.images import KindImages
from kslab.providers.preflight import Check, collect, kind_checks
from kslab.providers.state import CreatedClusterProvider, ProviderState
from kslab.util.atomic import write_text
from kslab.util.process import run_tool

GATEWAY_NODE_PORT = 31080  # the gateway's http2 NodePort when kind.ingress_host_port is set


def render_kind_config(settings: Settings, release: StackRelease, template: Path | None = None) -> dict[str, Any]:
    """The kind Cluster document: name, node images, extra workers and, only when kind.ingress_host_port is
    set, a loopback mapping of that host port to the gateway's NodePort on the control-plane node."""
    source = template or manifests_dir() / "kind" / "cluster.yaml"
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config["name"] = settings.cluster_name
    image = settings.kind.node_image or release.kind.node_image
    nodes = [node for node in config.get("nodes") or [{"role": "control-plane"}]]
    nodes += [{"role": "worker"} for _ in range(settings.kind.workers)]
    for node in nodes:
        node["image"] = image
    port = settings.kind.ingress_host_port
    if port is not None:
        control_plane = next((n for n in nodes if n.get("role", "control-plane") == "control-plane"), nodes[0])
        mappings = control_plane.setdefault("extraPortMappings", [])
        mapping = next((m for m in mappings if m.get("containerPort") == GATEWAY_NODE_PORT), None)
        if mapping is None:
            mappings.append({"containerPort": GATEWAY_NODE_PORT, "hostPort": port, "listenAddress": "127.0.0.1",
                             "protocol": "TCP"})
        else:
            mapping["hostPort"] = port
    config["nodes"] = nodes
    return config


class KindProvider(CreatedClusterProvider):
    provider = "kind"

    def __init__(self, settings: Settings, release: StackRelease, state: ProviderState,
                 preload: tuple[str, ...] = ()) -> None:
        super().__init__(settings.cluster_name, f"kind-{settings.cluster_name}", state)
        self.settings = settings
        self.release = release
        self.preload = preload

    @property
    def gateway_node_port(self) -> int | None:
        """The gateway's http2 NodePort that kind.ingress_host_port maps to on the host; None when unset."""
        return GATEWAY_NODE_PORT if self.settings.kind.ingress_host_port is not None else None

    def exists(self) -> bool:
        result = run_tool("kind", ["get", "clusters"], timeout=60)
        if not result.ok:
            raise CheckFailed(f"kind get clusters failed: {result.last_error_line()}")
        return self.name in result.stdout.split()

    def identity(self) -> str | None:
        """The ids of the cluster's node containers (kind has no cluster uid; a recreated cluster has new ones)."""
        return container_ids(KIND_CLUSTER_LABEL, self.name)

    def create(self, on_line: LineSink | None = None) -> ClusterAccess:
        config = render_kind_config(self.settings, self.release)
        config_path = self.state.root / "kind" / f"{self.name}.yaml"
        write_text(config_path, yaml.safe_dump(copy.deepcopy(config), sort_keys=False))
        args = ["create", "cluster", "--name", self.name, "--config", str(config_path),
                "--kubeconfig", str(self.kubeconfig)]
        result = run_tool("kind", args, timeout=self.settings.timeouts.install, on_stderr_line=on_line)
        if not result.ok:
            raise CheckFailed(f"kind create cluster failed: {result.last_error_line()}",
                              f"see the output above; retry after 'kind delete cluster --name {self.name}' "
                              "if a half-made cluster is left")
        self.remember_created()
        for image in self.preload:
            loaded = run_tool("kind", ["load", "docker-image", image, "--name", self.name],
                              timeout=self.settings.timeouts.install, on_stderr_line=on_line)
            if not loaded.ok:
                raise CheckFailed(f"kind load docker-image {image} failed: {loaded.last_error_line()}",
                                  f"pull it first: docker pull {image}")
        return self.access()

    def node_images(self) -> KindImages:
        return KindImages(self.name, self.settings.timeouts.install)

    def delete(self, on_line: LineSink | None = None) -> None:
        result = run_tool("kind", ["delete", "cluster", "--name", self.name, "--kubeconfig", str(self.kubeconfig)],
                          timeout=self.settings.timeouts.install, on_stderr_line=on_line)
        if not result.ok:
            raise CheckFailed(f"kind delete cluster failed: {result.last_error_line()}")
        self.forget_created()

    def preflight(self, on_check: Callable[[Check], None] | None = None) -> list[Check]:
        return collect(kind_checks(self.settings), on_check)
