"""kind's cluster config (kind.x-k8s.io/v1alpha4) decoded the way kind does it.

kind reads apiVersion/kind first, then decodes with gopkg.in/yaml.v3 and ``KnownFields(true)``: any
unknown field anywhere is an error naming its line and the Go type, e.g.
``yaml: unmarshal errors:\\n  line 3: field nodez not found in type v1alpha4.Cluster``.
The schema below mirrors ``pkg/apis/config/v1alpha4/types.go`` (v0.30.0).
"""

from __future__ import annotations

import ipaddress
import re
import sys
from pathlib import Path
from typing import Any

import yaml

STR, INT, BOOL = "string", "int32", "bool"
SCHEMA: dict[str, dict[str, str]] = {
    "Cluster": {"kind": STR, "apiVersion": STR, "name": STR, "nodes": "[]Node", "networking": "Networking",
                "featureGates": "map[string]bool", "runtimeConfig": "map[string]string",
                "kubeadmConfigPatches": "[]string", "kubeadmConfigPatchesJSON6902": "[]PatchJSON6902",
                "containerdConfigPatches": "[]string", "containerdConfigPatchesJSON6902": "[]string"},
    "Node": {"role": STR, "image": STR, "labels": "map[string]string", "extraMounts": "[]Mount",
             "extraPortMappings": "[]PortMapping", "kubeadmConfigPatches": "[]string",
             "kubeadmConfigPatchesJSON6902": "[]PatchJSON6902"},
    "Networking": {"ipFamily": STR, "apiServerPort": INT, "apiServerAddress": STR, "podSubnet": STR,
                   "serviceSubnet": STR, "disableDefaultCNI": BOOL, "kubeProxyMode": STR, "dnsSearch": "[]string"},
    "PatchJSON6902": {"group": STR, "version": STR, "kind": STR, "patch": STR},
    "Mount": {"containerPath": STR, "hostPath": STR, "readOnly": BOOL, "selinuxRelabel": BOOL,
              "propagation": STR},
    "PortMapping": {"containerPort": INT, "hostPort": INT, "listenAddress": STR, "protocol": STR},
}
_YAML_TAG = {"tag:yaml.org,2002:str": "!!str", "tag:yaml.org,2002:int": "!!int", "tag:yaml.org,2002:bool": "!!bool",
             "tag:yaml.org,2002:float": "!!float", "tag:yaml.org,2002:null": "!!null"}


_NAME_RE = re.compile(r"^[a-z0-9.-]+$")


class ConfigError(Exception):
    pass


def _go_type(type_name: str) -> str:
    if type_name.startswith("[]") and type_name[2:] in SCHEMA:
        return "[]v1alpha4." + type_name[2:]
    return f"v1alpha4.{type_name}" if type_name in SCHEMA else type_name


def _kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "!!map"
    if isinstance(node, yaml.SequenceNode):
        return "!!seq"
    return _YAML_TAG.get(node.tag, node.tag)


def _mismatch(node: yaml.Node, type_name: str) -> str:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return f"line {line}: cannot unmarshal {_kind_of(node)} `{node.value}` into {_go_type(type_name)}"
    return f"line {line}: cannot unmarshal {_kind_of(node)} into {_go_type(type_name)}"


def _check(node: yaml.Node, type_name: str, errors: list[str]) -> None:
    """Append yaml.v3-style errors for ``node`` decoded into ``type_name``."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return
    if type_name in SCHEMA:
        if not isinstance(node, yaml.MappingNode):
            errors.append(_mismatch(node, type_name))
            return
        fields = SCHEMA[type_name]
        for key, value in node.value:
            if key.value not in fields:
                errors.append(f"line {key.start_mark.line + 1}: field {key.value} not found in type "
                              f"v1alpha4.{type_name}")
                continue
            _check(value, fields[key.value], errors)
    elif type_name.startswith("[]"):
        if not isinstance(node, yaml.SequenceNode):
            errors.append(_mismatch(node, type_name))
            return
        for item in node.value:
            _check(item, type_name[2:], errors)
    elif type_name.startswith("map[string]"):
        if not isinstance(node, yaml.MappingNode):
            errors.append(_mismatch(node, type_name))
            return
        for _, value in node.value:
            _check(value, type_name[len("map[string]"):], errors)
    elif type_name == INT:
        if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int"):
            errors.append(_mismatch(node, type_name))
    elif type_name == BOOL:
        if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool"):
            errors.append(_mismatch(node, type_name))
    elif not isinstance(node, yaml.ScalarNode):  # string: any scalar decodes, collections do not
        errors.append(_mismatch(node, type_name))


def parse(raw: str) -> dict[str, Any]:
    """Decode and default a config document; raises ConfigError with kind's wording."""
    try:
        docs = list(yaml.compose_all(raw, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ConfigError(f"could not determine kind / apiVersion for config: yaml: {exc}") from None
    root = docs[0] if docs else None
    data = next(iter(yaml.safe_load_all(raw)), None)
    if not isinstance(data, dict):
        data = {}
    api_version, kind = data.get("apiVersion") or "", data.get("kind") or ""
    if api_version not in ("kind.x-k8s.io/v1alpha4", "kind.sigs.k8s.io/v1alpha3"):
        raise ConfigError(f"unknown apiVersion: {api_version}")
    if kind != "Cluster":
        # kind's own message swaps the two values; kept as is
        raise ConfigError(f"unknown kind {api_version} for apiVersion: {kind}")
    if api_version != "kind.x-k8s.io/v1alpha4":
        raise ConfigError("unable to decode config: v1alpha3 is not modelled by the fake kind")
    errors: list[str] = []
    if root is not None:
        _check(root, "Cluster", errors)
    if errors:
        raise ConfigError("unable to decode config: yaml: unmarshal errors:\n  " + "\n  ".join(errors))
    return defaults(data)


def defaults(data: dict[str, Any]) -> dict[str, Any]:
    cfg = dict(data)
    nodes = [dict(n or {}) for n in cfg.get("nodes") or [{"role": "control-plane"}]]
    for node in nodes:
        node["role"] = node.get("role") or "control-plane"
        for pm in node.get("extraPortMappings") or []:
            pm.setdefault("protocol", "TCP")
    cfg["nodes"] = nodes
    return cfg


def load_config(path: str | None) -> dict[str, Any]:
    """--config file ('-' = stdin), or the default single control-plane config."""
    if not path:
        return defaults({})
    if path == "-":
        return parse(sys.stdin.read())
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"error reading file: open {path}: no such file or directory") from None
    return parse(raw)


def validate(name: str, cfg: dict[str, Any]) -> None:
    errors: list[str] = []
    if not _NAME_RE.match(name):
        errors.append(f"'{name}' is not a valid cluster name, cluster names must match `{_NAME_RE.pattern}`")
    net = cfg.get("networking") or {}
    if net.get("apiServerPort") and not -1 <= int(net["apiServerPort"]) <= 65535:
        errors.append(f"invalid apiServerPort: invalid port number: {net['apiServerPort']}")
    family = net.get("ipFamily") or "ipv4"
    if family not in ("ipv4", "ipv6", "dual"):
        errors.append(f"invalid ipFamily: {family}")
    for key, default, label in (("podSubnet", "10.244.0.0/16", "pod"), ("serviceSubnet", "10.96.0.0/16", "service")):
        for cidr in str(net.get(key) or default).split(","):
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                errors.append(f"invalid {label} subnet failed to parse cidr value:{cidr!r} with error: {exc}")
    proxy = net.get("kubeProxyMode") or "iptables"
    if proxy not in ("iptables", "ipvs", "nftables", "none"):
        errors.append(f"invalid kubeProxyMode: {proxy}")
    for i, node in enumerate(cfg["nodes"]):
        problems: list[str] = []
        if node["role"] not in ("control-plane", "worker"):
            problems.append(f'"{node["role"]}" is not a valid node role')
        if not node.get("image"):
            problems.append("image is a required field")
        seen: dict[str, set[str]] = {}
        for pm in node.get("extraPortMappings") or []:
            for field in ("hostPort", "containerPort"):
                if not -1 <= int(pm.get(field, 0)) <= 65535:
                    problems.append(f"invalid {field}: invalid port number: {pm.get(field)}")
            host_port = int(pm.get("hostPort", 0))
            if host_port in (0, -1):
                continue
            addr = pm.get("listenAddress") or "0.0.0.0"
            addr = "0.0.0.0" if addr in ("::", "[::]") else addr
            key = f"{host_port}/{pm.get('protocol') or ''}"
            bound = seen.setdefault(key, set())
            if bound and (addr == "0.0.0.0" or addr in bound or "0.0.0.0" in bound):
                problems.append("invalid portMapping: port mapping with same listen address, port and protocol "
                                f"already configured: {addr}:{key}")
            bound.add(addr)
        if problems:
            errors.append(f"invalid configuration for node {i}: {aggregate(problems)}")
    if not any(n["role"] == "control-plane" for n in cfg["nodes"]):
        errors.append("must have at least one control-plane node")
    if errors:
        raise ConfigError(aggregate(errors))


def aggregate(errors: list[str]) -> str:
    """k8s.io/apimachinery NewAggregate formatting."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
