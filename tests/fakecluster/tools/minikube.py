"""Fake ``minikube`` v1.38.1 (docker driver): profiles in ``minikube.json``, API = the fake server.

``start`` checks what minikube checks before creating anything: Docker reachable for the docker
driver (PROVIDER_DOCKER_NOT_RUNNING, exit 63), requested CPUs and memory against ``docker info``
(RSRC_INSUFFICIENT_CORES exit 29, RSRC_OVER_ALLOC_MEM), then writes a kubeconfig context named
after the profile. Progress goes to stdout, "Exiting due to" lines to stderr, like minikube.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from .common import (
    DOCKER_DOWN_MESSAGE,
    UsageError,
    cluster_url,
    docker_state,
    err,
    locked_state,
    merge_target,
    out,
    parse_args,
    read_state,
    record,
    remove_from_kubeconfig,
    upsert_kubeconfig,
)
from .docker import DEFAULT_INFO, new_container_id

VERSION = "v1.38.1"
COMMIT = "c93a4cb9311efc66b90d33ea03f75f2c4120e9b0"
DEFAULT_K8S = "v1.34.4"
KICBASE = "v0.0.48"
EX_PROVIDER_NOT_RUNNING, EX_INSUFFICIENT_CORES, EX_PROGRAM_ERROR, EX_GUEST_NOT_FOUND = 63, 29, 10, 85


class MinikubeExit(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _profile_flag(flags: dict[str, Any]) -> str:
    return flags.get("profile") or os.environ.get("MINIKUBE_PROFILE") or "minikube"


def _memory_mb(text: str, total_mb: int) -> int:
    if text == "max":
        return total_mb
    match = re.fullmatch(r"(\d+)\s*([a-zA-Z]*)", text.strip())
    if not match:
        raise UsageError(f'invalid memory value "{text}"')
    value, unit = int(match.group(1)), match.group(2).lower()
    factor = {"": 1, "m": 1, "mb": 1, "mi": 1, "mib": 1, "g": 1024, "gb": 1024, "gi": 1024, "gib": 1024}.get(unit)
    if factor is None:
        raise UsageError(f'invalid memory value "{text}"')
    return value * factor


def _not_found(profile: str) -> MinikubeExit:
    return MinikubeExit(f'🤷  Profile "{profile}" not found. Run "minikube profile list" to view all profiles.\n'
                        f'👉  To start a cluster, run: "minikube start -p {profile}"', EX_GUEST_NOT_FOUND)


def start(args: list[str]) -> int:
    flags, _ = parse_args(args, {"-p": "profile", "--profile": "profile", "--cpus": "cpus", "--memory": "memory",
                                 "--driver": "driver", "--vm-driver": "driver", "--kubernetes-version": "k8s",
                                 "--nodes": "nodes", "-n": "nodes", "--wait-timeout": "ignored",
                                 "--wait": "ignored", "--container-runtime": "runtime", "--addons": "ignored",
                                 "--extra-config": "ignored", "--disk-size": "ignored", "--ports": "ignored"},
                          {"--force": "force", "--keep-context": "keep_context", "--delete-on-failure": "ignored"})
    profile = _profile_flag(flags)
    profiles = read_state("minikube").get("profiles", {})
    existing = profiles.get(profile)
    driver = flags.get("driver") or (existing or {}).get("driver") or "docker"
    info = {**DEFAULT_INFO, **docker_state().get("info", {})}
    out(f"😄  [{profile}] minikube {VERSION} on Ubuntu 24.04")
    if driver in ("docker", "podman"):
        if not docker_state().get("up", True):
            raise MinikubeExit('❌  Exiting due to PROVIDER_DOCKER_NOT_RUNNING: "docker version --format '
                               '{{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}" exit status 1: '
                               f"{DOCKER_DOWN_MESSAGE}\n💡  Suggestion: Start the Docker service",
                               EX_PROVIDER_NOT_RUNNING)
        out(f"✨  Using the {driver} driver based on " + ("existing profile" if existing else "user configuration"))
    total_mb = int(info["MemTotal"]) // (1024 * 1024)
    cpus_text = str(flags.get("cpus") or (existing or {}).get("cpus") or 2)
    cpus = int(info["NCPU"]) if cpus_text in ("max", "no-limit") else int(cpus_text)
    memory = _memory_mb(str(flags.get("memory") or (existing or {}).get("memory") or min(4000, total_mb)), total_mb)
    if not flags.get("force"):
        if cpus > int(info["NCPU"]):
            raise MinikubeExit(f"⛔  Exiting due to RSRC_INSUFFICIENT_CORES: Requested cpu count {cpus} is greater "
                               f"than the available cpus of {info['NCPU']}", EX_INSUFFICIENT_CORES)
        if memory > total_mb:
            raise MinikubeExit(f"❌  Exiting due to RSRC_OVER_ALLOC_MEM: Requested memory allocation {memory}MB is "
                               f"more than your system limit {total_mb}MB.\n💡  Suggestion: Start minikube with less "
                               f"memory allocated: 'minikube start --memory={max(total_mb - 1024, 1800)}mb'",
                               EX_PROGRAM_ERROR)
    k8s = flags.get("k8s") or (existing or {}).get("kubernetes_version") or DEFAULT_K8S
    if k8s in ("stable", "latest"):
        k8s = DEFAULT_K8S
    k8s = k8s if k8s.startswith("v") else f"v{k8s}"
    nodes = int(flags.get("nodes") or (existing or {}).get("nodes") or 1)
    out(f'👍  Starting "{profile}" primary control-plane node in "{profile}" cluster')
    out(f"🚜  Pulling base image {KICBASE} ...")
    if existing:
        out(f'🏃  Updating the running {driver} "{profile}" container ...')
    else:
        out(f"🔥  Creating {driver} container (CPUs={cpus}, Memory={memory}MB) ...")
    out(f"🐳  Preparing Kubernetes {k8s} on Docker 28.4.0 ...")
    out("🔎  Verifying Kubernetes components...\n    ▪ Using image gcr.io/k8s-minikube/storage-provisioner:v5")
    with locked_state("minikube") as state:
        all_profiles = state.setdefault("profiles", {})
        ip = (existing or {}).get("ip") or f"192.168.{49 + 9 * len(all_profiles)}.2"
        container_id = (existing or {}).get("container_id") or new_container_id()  # restarted, not recreated
        all_profiles[profile] = {"driver": driver, "cpus": cpus, "memory": memory, "kubernetes_version": k8s,
                                 "nodes": nodes, "ip": ip, "status": "Running", "container_id": container_id}
    kubeconfig = merge_target(None)
    upsert_kubeconfig(kubeconfig, profile, cluster_url(), namespace="default",
                      set_current=not flags.get("keep_context"))
    out("🌟  Enabled addons: storage-provisioner, default-storageclass")
    out(f'🏄  Done! kubectl is now configured to use "{profile}" cluster and "default" namespace by default')
    return 0


def _require(profile: str) -> dict[str, Any]:
    found = read_state("minikube").get("profiles", {}).get(profile)
    if found is None:
        raise _not_found(profile)
    return found


def status(args: list[str]) -> int:
    flags, _ = parse_args(args, {"-p": "profile", "--profile": "profile", "-o": "output", "--output": "output",
                                 "-f": "format", "--format": "format"}, {})
    profile = _profile_flag(flags)
    state = _require(profile).get("status", "Running")
    if flags.get("output") == "json":
        out(json.dumps({"Name": profile, "Host": state, "Kubelet": state, "APIServer": state,
                        "Kubeconfig": "Configured", "Worker": False}))
    else:
        out(f"{profile}\ntype: Control Plane\nhost: {state}\nkubelet: {state}\napiserver: {state}\n"
            "kubeconfig: Configured\n")
    return 0


def profile_list(args: list[str]) -> int:
    flags, _ = parse_args(args, {"-o": "output", "--output": "output"}, {"-l": "light", "--light": "light"})
    profiles = read_state("minikube").get("profiles", {})
    valid = [{"Name": name, "Status": "OK" if p.get("status") == "Running" else "Stopped",
              "Config": {"Name": name, "Driver": p["driver"], "CPUs": p["cpus"], "Memory": p["memory"],
                         "KubernetesConfig": {"KubernetesVersion": p["kubernetes_version"], "ClusterName": name,
                                              "ContainerRuntime": "docker"},
                         "Nodes": [{"Name": "", "IP": p["ip"], "Port": 8443, "KubernetesVersion":
                                    p["kubernetes_version"], "ControlPlane": True, "Worker": True}]},
              "Active": False} for name, p in sorted(profiles.items())]
    if flags.get("output") == "json":
        out(json.dumps({"invalid": [], "valid": valid}))
        return 0
    if not valid:
        err('🤹  Exiting due to MK_USAGE_NO_PROFILE: No minikube profile was found.')
        return 14
    out("| Profile | Driver | Runtime | IP | Port | Version | Status | Nodes | Active |")
    for v in valid:
        c = v["Config"]
        out(f"| {v['Name']} | {c['Driver']} | docker | {c['Nodes'][0]['IP']} | 8443 | "
            f"{c['KubernetesConfig']['KubernetesVersion']} | {v['Status']} | 1 | |")
    return 0


def delete(args: list[str]) -> int:
    flags, _ = parse_args(args, {"-p": "profile", "--profile": "profile"}, {"--all": "all", "--purge": "ignored"})
    names = sorted(read_state("minikube").get("profiles", {})) if flags.get("all") else [_profile_flag(flags)]
    for profile in names:
        with locked_state("minikube") as state:
            found = state.setdefault("profiles", {}).pop(profile, None)
        if found is None:
            out(f'🙄  "{profile}" profile does not exist, trying anyways.')
        else:
            out(f'🔥  Deleting "{profile}" in {found["driver"]} ...\n🔥  Deleting container "{profile}" ...')
        remove_from_kubeconfig(merge_target(None), profile)
        out(f'💀  Removed all traces of the "{profile}" cluster.')
    return 0


def image(args: list[str]) -> int:
    """``image load IMAGE`` (from the host's Docker) and ``image ls``: the profile's ``images`` list."""
    from .docker import has_image, normalize

    what, rest = (args[0], args[1:]) if args else ("", [])
    flags, refs = parse_args(rest, {"-p": "profile", "--profile": "profile", "--format": "format"},
                             {"--daemon": "daemon", "--remote": "remote", "--overwrite": "overwrite"})
    profile = _profile_flag(flags)
    _require(profile)
    if what in ("ls", "list"):
        loaded = read_state("minikube")["profiles"][profile].get("images", [])
        for ref in sorted({normalize(r) for r in loaded} | {"registry.k8s.io/pause:3.10",
                                                           "gcr.io/k8s-minikube/storage-provisioner:v5"}):
            out(ref)
        return 0
    if what == "load":
        if not refs:
            raise UsageError("Please provide an image in your local daemon to load into minikube via <minikube "
                             "image load IMAGE_NAME>")
        for ref in refs:
            if not docker_state().get("up", True) or not has_image(ref):
                raise MinikubeExit(f"❌  Exiting due to GUEST_IMAGE_LOAD: Failed to load image: save to dir: caching "
                                   f'images: caching image "{ref}": {ref}: not found in the local Docker daemon',
                                   EX_PROGRAM_ERROR)
        with locked_state("minikube") as state:
            images = state["profiles"][profile].setdefault("images", [])
            images.extend(r for r in refs if r not in images)
        return 0
    raise UsageError(f'unknown command "{what}" for "minikube image"')


def main(argv: list[str]) -> int:
    record("minikube", argv)
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "version":
            flags, _ = parse_args(rest, {"-o": "output", "--output": "output"}, {"--short": "short"})
            if flags.get("short"):
                out(VERSION)
            elif flags.get("output") == "json":
                out(json.dumps({"commit": COMMIT, "minikubeVersion": VERSION}))
            else:
                out(f"minikube version: {VERSION}\ncommit: {COMMIT}")
            return 0
        if command == "start":
            return start(rest)
        if command == "status":
            return status(rest)
        if command == "profile" and rest[:1] == ["list"]:
            return profile_list(rest[1:])
        if command == "delete":
            return delete(rest)
        if command == "image":
            return image(rest)
        if command == "ip":
            flags, _ = parse_args(rest, {"-p": "profile", "--profile": "profile", "-n": "ignored",
                                         "--node": "ignored"}, {})
            out(_require(_profile_flag(flags))["ip"])
            return 0
        if command == "kubectl":
            flags, kargs = parse_args(rest, {"-p": "profile", "--profile": "profile"}, {})
            profile = _profile_flag(flags)
            _require(profile)
            real = os.environ.get("FAKE_REAL_KUBECTL", "kubectl")
            os.execv(real, [real, "--context", profile, *kargs])
        raise UsageError(f'unknown command "{command}" for "minikube"')
    except UsageError as exc:
        err(f"❌  Exiting due to MK_USAGE: {exc}")
        return 14
    except MinikubeExit as exc:
        err(str(exc))
        return exc.code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
