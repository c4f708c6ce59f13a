"""Fake ``kind`` v0.30.0: clusters are records in ``kind.json``; every cluster's API is the fake server.

Follows kind's order of checks for ``create cluster``: config decoding (strict, like kind's yaml.v3
KnownFields decoder) → Docker reachable (``docker info``) → name not taken → config validation →
node provisioning (port-mapping protocol, host-port clashes with other clusters) → kubeconfig export
(merged into --kubeconfig, else the first existing $KUBECONFIG file, else ~/.kube/config). Progress
goes to stderr in kind's non-terminal format (" • step  ..." then " ✓ step").
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import (
    DOCKER_DOWN_MESSAGE,
    UsageError,
    cluster_url,
    docker_up,
    err,
    format_duration,
    locked_state,
    merge_target,
    out,
    parse_args,
    parse_duration,
    read_state,
    record,
    remove_from_kubeconfig,
    upsert_kubeconfig,
)
from .docker import add_image, has_image, image_id, new_container_id
from .kind_config import ConfigError, load_config, validate

VERSION_LINE = "kind v0.30.0 go1.24.6 linux/amd64"  # FAKE_KIND_VERSION=v0.27.0 makes it report another release
DEFAULT_IMAGE = "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
_SALUTATIONS = (
    "Have a nice day! 👋",
    "Thanks for using kind! 😊",
    "Not sure what to do next? 😅  Check out https://kind.sigs.k8s.io/docs/user/quick-start/",
    "Have a question, bug, or feature request? Let us know! https://kind.sigs.k8s.io/#community 🙂",
)


class KindError(Exception):
    """Printed as "ERROR: <message>" (plus "Command Output: ..." when a docker command failed)."""

    def __init__(self, message: str, command_output: str | None = None) -> None:
        super().__init__(message)
        self.command_output = command_output


def _docker_failure(context: str, command: str) -> KindError:
    return KindError(f'{context}: command "{command}" failed with error: exit status 1', DOCKER_DOWN_MESSAGE)


def _clusters() -> dict[str, Any]:
    return read_state("kind").get("clusters", {})


def _list_nodes(name: str, context: str = "failed to list nodes") -> list[dict[str, Any]]:
    if not docker_up():
        raise _docker_failure(context, "docker ps -a --filter label=io.x-k8s.kind.cluster=" + name
                              + " --format '{{.Names}}'")
    return list(_clusters().get(name, {}).get("nodes", []))


def _version_line() -> str:
    release = os.environ.get("FAKE_KIND_VERSION")
    return VERSION_LINE.replace("v0.30.0", release) if release else VERSION_LINE


def _friendly(image: str) -> str:
    return image.split("@", 1)[0]


class Status:
    """kind's status printer when stderr is not a terminal."""

    def __init__(self) -> None:
        self.current = ""

    def start(self, text: str) -> None:
        self.end(True)
        self.current = text
        err(f" • {text}  ...")

    def end(self, ok: bool) -> None:
        if self.current:
            err(f" {'✓' if ok else '✗'} {self.current}")
        self.current = ""


def _nodes_for(name: str, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    nodes, counts = [], {"control-plane": 0, "worker": 0}
    for node in cfg["nodes"]:
        counts[node["role"]] += 1
        n = counts[node["role"]]
        ports = [f"{pm.get('listenAddress') or '0.0.0.0'}:{pm.get('hostPort', 0)}->{pm.get('containerPort', 0)}/"
                 f"{(pm.get('protocol') or 'TCP').lower()}" for pm in node.get("extraPortMappings") or []]
        nodes.append({"name": f"{name}-{node['role']}" + (str(n) if n > 1 else ""), "role": node["role"],
                      "image": node["image"], "ports": ", ".join(ports), "container_id": new_container_id(),
                      "port_mappings": node.get("extraPortMappings") or []})
    return nodes


def _provision(name: str, cfg: dict[str, Any], status: Status) -> list[dict[str, Any]]:
    for image in sorted({n["image"] for n in cfg["nodes"]}):
        status.start(f"Ensuring node image ({_friendly(image)}) 🖼")
        if not has_image(image):
            add_image(image)  # kind pulls a missing node image (docker pull, up to 4 tries)
    status.start("Preparing nodes " + "📦 " * len(cfg["nodes"]))
    nodes = _nodes_for(name, cfg)
    taken = {(pm.get("listenAddress") or "0.0.0.0", int(pm.get("hostPort", 0)))
             for other in _clusters().values() for node in other.get("nodes", [])
             for pm in node.get("port_mappings", [])}
    for node in nodes:
        for pm in node["port_mappings"]:
            protocol = pm.get("protocol") or "TCP"
            if protocol not in ("TCP", "UDP", "SCTP"):
                status.end(False)
                raise KindError(f"unknown port mapping protocol: {protocol}")
            addr, port = pm.get("listenAddress") or "0.0.0.0", int(pm.get("hostPort", 0))
            if port > 0 and ((addr, port) in taken or ("0.0.0.0", port) in taken
                             or (addr == "0.0.0.0" and any(p == port for _, p in taken))):
                status.end(False)
                raise KindError(f'command "docker run --name {node["name"]} ..." failed with error: exit status 125',
                                f"docker: Error response from daemon: failed to set up container networking: driver "
                                f"failed programming external connectivity on endpoint {node['name']}: Bind for "
                                f"{addr}:{port} failed: port is already allocated")
    return nodes


def create_cluster(args: list[str]) -> int:
    flags, _ = parse_args(args, {"-n": "name", "--name": "name", "--config": "config", "--image": "image",
                                 "--wait": "wait", "--kubeconfig": "kubeconfig"}, {"--retain": "retain"})
    try:
        wait = parse_duration(flags.get("wait", "0s"))
    except ValueError as exc:
        raise UsageError(f'invalid argument "{flags["wait"]}" for "--wait" flag: {exc}') from None
    try:
        cfg = load_config(flags.get("config"))
    except ConfigError as exc:
        raise KindError(f"failed to create cluster: {exc}") from None
    if not docker_up():
        raise _docker_failure("failed to create cluster: failed to get docker info",
                              "docker info --format '{{json .}}'")
    name = flags.get("name") or os.environ.get("KIND_CLUSTER_NAME") or cfg.get("name") or "kind"
    if flags.get("image"):
        for node in cfg["nodes"]:
            node["image"] = flags["image"]
    for node in cfg["nodes"]:
        node["image"] = node.get("image") or DEFAULT_IMAGE
    if name in _clusters():
        raise KindError(f'failed to create cluster: node(s) already exist for a cluster with the name "{name}"')
    if len(name) > 50:
        err(f'WARNING: cluster name "{name}" is probably too long, this might not work properly on some systems')
    try:
        validate(name, cfg)
    except ConfigError as exc:
        raise KindError(f"failed to create cluster: {exc}") from None
    err(f'Creating cluster "{name}" ...')
    status = Status()
    try:
        nodes = _provision(name, cfg, status)
    except KindError as exc:
        raise KindError(f"failed to create cluster: {exc}", exc.command_output) from None
    control_planes = sum(1 for n in nodes if n["role"] == "control-plane")
    if control_planes > 1:
        status.start("Configuring the external load balancer ⚖️")
    status.start("Writing configuration 📜")
    status.start("Starting control-plane 🕹️")
    if not (cfg.get("networking") or {}).get("disableDefaultCNI"):
        status.start("Installing CNI 🔌")
    status.start("Installing StorageClass 💾")
    if control_planes > 1:
        status.start("Joining more control-plane nodes 🎮")
    if any(n["role"] == "worker" for n in nodes):
        status.start("Joining worker nodes 🚜")
    if wait > 0:
        status.start(f"Waiting ≤ {format_duration(wait)} for control-plane = Ready ⏳")
        status.end(True)
        err(" • Ready after 0s 💚")
    status.end(True)
    kubeconfig = merge_target(flags.get("kubeconfig"))
    with locked_state("kind") as state:
        state.setdefault("clusters", {})[name] = {"nodes": nodes, "config": cfg, "kubeconfig": str(kubeconfig),
                                                  "loaded_images": []}
    upsert_kubeconfig(kubeconfig, f"kind-{name}", cluster_url())
    err(f'Set kubectl context to "kind-{name}"')
    sample = f"kubectl cluster-info --context kind-{name}"
    if flags.get("kubeconfig"):
        sample += f" --kubeconfig {flags['kubeconfig']}"
    err(f"You can now use your cluster with:\n\n{sample}\n")
    err(random.choice(_SALUTATIONS))
    return 0


def delete_cluster(args: list[str]) -> int:
    flags, _ = parse_args(args, {"-n": "name", "--name": "name", "--kubeconfig": "kubeconfig"}, {})
    name = flags.get("name") or os.environ.get("KIND_CLUSTER_NAME") or "kind"
    err(f'Deleting cluster "{name}" ...')
    try:
        nodes = _list_nodes(name)
    except KindError as exc:
        raise KindError(f'failed to delete cluster "{name}": error listing nodes: {exc}', exc.command_output) from None
    remove_from_kubeconfig(merge_target(flags.get("kubeconfig")), f"kind-{name}")
    if nodes:
        with locked_state("kind") as state:
            state.get("clusters", {}).pop(name, None)
        err("Deleted nodes: [" + " ".join(f'"{n["name"]}"' for n in nodes) + "]")
    return 0


def _kubeconfig_text(name: str) -> str:
    import yaml

    entry = f"kind-{name}"
    doc = {"apiVersion": "v1", "clusters": [{"cluster": {"server": cluster_url()}, "name": entry}],
           "contexts": [{"context": {"cluster": entry, "user": entry}, "name": entry}],
           "current-context": entry, "kind": "Config", "preferences": {}, "users": [{"name": entry, "user": {}}]}
    return yaml.safe_dump(doc, sort_keys=False)


def get(args: list[str]) -> int:
    what, rest = (args[0], args[1:]) if args else ("", [])
    if what == "clusters":
        if not docker_up():
            raise _docker_failure("failed to list clusters", "docker ps -a --filter label=io.x-k8s.kind.cluster "
                                  "--format '{{.Label \"io.x-k8s.kind.cluster\"}}'")
        names = sorted(_clusters())
        if not names:
            err("No kind clusters found.")
        for name in names:
            out(name)
        return 0
    flags, _ = parse_args(rest, {"-n": "name", "--name": "name"}, {"--internal": "internal", "-A": "all",
                                                                    "--all-clusters": "all"})
    name = flags.get("name") or os.environ.get("KIND_CLUSTER_NAME") or "kind"
    if what == "nodes":
        names = sorted(_clusters()) if flags.get("all") else [name]
        nodes = [n for cluster in names for n in _list_nodes(cluster)]
        if not nodes:
            err("No kind nodes for any cluster." if flags.get("all") else f'No kind nodes found for cluster "{name}".')
        for node in nodes:
            out(node["name"])
        return 0
    if what == "kubeconfig":
        if not any(n["role"] == "control-plane" for n in _list_nodes(name)):
            raise KindError(f"could not locate any control plane nodes for cluster named '{name}'. Use the --name "
                            "option to select a different cluster")
        out(_kubeconfig_text(name))
        return 0
    raise UsageError(f'unknown command "{what}" for "kind get"')


def load_docker_image(args: list[str]) -> int:
    flags, images = parse_args(args, {"-n": "name", "--name": "name", "--nodes": "nodes"}, {})
    name = flags.get("name") or os.environ.get("KIND_CLUSTER_NAME") or "kind"
    if not images:
        raise UsageError("requires at least 1 arg(s), only received 0")
    images = list(dict.fromkeys(images))
    for image in images:
        if not docker_up() or not has_image(image):
            raise KindError(f'image: "{image}" not present locally')
    nodes = _list_nodes(name)
    if not nodes:
        raise KindError(f'no nodes found for cluster "{name}"')
    with locked_state("kind") as state:
        loaded = state["clusters"][name].setdefault("loaded_images", [])
        for image in images:
            if image in loaded:
                err(f'Image: "{image}" with ID "{image_id(image)}" found to be already present on all nodes.')
                continue
            for node in nodes:
                err(f'Image: "{image}" with ID "{image_id(image)}" not yet present on node "{node["name"]}", '
                    "loading...")
            loaded.append(image)
    return 0


def export_logs(args: list[str]) -> int:
    flags, rest = parse_args(args, {"-n": "name", "--name": "name"}, {})
    name = flags.get("name") or os.environ.get("KIND_CLUSTER_NAME") or "kind"
    nodes = _list_nodes(name)
    if not nodes:
        raise KindError(f'unknown cluster "{name}"')
    directory = Path(rest[0]) if rest else Path(tempfile.mkdtemp())
    err(f'Exporting logs for cluster "{name}" to:')
    out(str(directory))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kind-version.txt").write_text(_version_line() + "\n")
    (directory / "docker-info.txt").write_text("fake docker\n")
    for node in nodes:
        node_dir = directory / node["name"]
        node_dir.mkdir(exist_ok=True)
        (node_dir / "kubelet.log").write_text("fake kubelet log\n")
        (node_dir / "containerd.log").write_text("fake containerd log\n")
    return 0


def _strip_global_flags(argv: list[str]) -> list[str]:
    """Drop -v/--verbosity N and -q/--quiet, which kind accepts anywhere."""
    rest: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("-v", "--verbosity"):
            i += 2
            continue
        if argv[i] in ("-q", "--quiet") or argv[i].startswith("--verbosity="):
            i += 1
            continue
        rest.append(argv[i])
        i += 1
    return rest


def main(argv: list[str]) -> int:
    record("kind", argv)
    args = _strip_global_flags(argv)
    head, tail = args[:2], args[2:]
    try:
        if head[:1] in (["version"], ["--version"]):
            out(_version_line())
            return 0
        if head == ["create", "cluster"]:
            return create_cluster(tail)
        if head == ["delete", "cluster"]:
            return delete_cluster(tail)
        if head[:1] == ["get"]:
            return get(args[1:])
        if head == ["load", "docker-image"]:
            return load_docker_image(tail)
        if head == ["export", "logs"]:
            return export_logs(tail)
        if not args:
            out("kind creates and manages local Kubernetes clusters using Docker container 'nodes'")
            return 0
        raise UsageError(f'unknown command "{args[0]}" for "kind"')
    except UsageError as exc:
        err(f"ERROR: {exc}")
        return 1
    except KindError as exc:
        err(f"ERROR: {exc}")
        if exc.command_output:
            err(f"\nCommand Output: {exc.command_output}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
