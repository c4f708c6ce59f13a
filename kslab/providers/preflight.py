"""Preflight: can this machine run the lab with the chosen provider? Each failed check says the fix.

Each provider's ``preflight()`` runs its own list (kind_checks, minikube_checks, cluster_tools; local: none).

Resource floor: KServe's developer docs run the lab on minikube with 4 CPUs / 8 GB, the Knative
Operator asks 6 CPUs / 6 GB for one node (knative.dev operator docs); the sklearn runtime asks 1 CPU / 2Gi per
pod unless the InferenceService overrides it, and canary + 6 autoscaled pods multiply that.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kslab.config.model import Settings
from kslab.errors import EnvironmentMissing
from kslab.models.stack import KindPin, StackRelease
from kslab.util.process import INSTALL_HINTS, run_tool, which

MIN_CPUS = 4
MIN_MEMORY_GIB = 8
INOTIFY = {"max_user_watches": 524288, "max_user_instances": 512}
INOTIFY_FIX = "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    severity: str = "error"  # error | warning

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _version_line(tool: str, args: list[str]) -> str:
    result = run_tool(tool, args, timeout=30)
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0] if text else "unknown version"


def check_binary(tool: str, version_args: list[str]) -> Check:
    if which(tool) is None:
        return Check(f"{tool} installed", False, f"{tool} not found on PATH", INSTALL_HINTS.get(tool))
    return Check(f"{tool} installed", True, _version_line(tool, version_args))


def docker_info() -> tuple[Check, dict[str, Any]]:
    if which("docker") is None:
        return Check("docker engine", False, "docker not found on PATH", INSTALL_HINTS["docker"]), {}
    result = run_tool("docker", ["info", "--format", "{{json .}}"], timeout=30)
    if not result.ok:
        return Check("docker engine", False, f"the Docker engine is not reachable: {result.last_error_line()}",
                     "start Docker (e.g. 'sudo systemctl start docker' or open Docker Desktop)"), {}
    try:
        info = json.loads(result.stdout)
    except ValueError:
        info = {}
    return Check("docker engine", True, f"Docker {info.get('ServerVersion', '?')} reachable"), info


def check_resources(cpus: int, memory_bytes: int, where: str) -> Check:
    gib = memory_bytes / 2**30
    ok = cpus >= MIN_CPUS and gib >= MIN_MEMORY_GIB - 0.5  # 8 GB machines report a little under 8 GiB
    detail = f"{where} has {cpus} CPUs and {gib:.1f} GiB memory (the lab needs {MIN_CPUS} CPUs, {MIN_MEMORY_GIB} GiB)"
    fix = None if ok else (f"give {where} at least {MIN_CPUS} CPUs and {MIN_MEMORY_GIB} GiB "
                           "(Docker Desktop: Settings > Resources), or lower predictor resources in the templates")
    return Check("cpu and memory", ok, detail, fix)


def check_inotify(proc: Path = Path("/proc/sys/fs/inotify")) -> Check:
    if not sys.platform.startswith("linux") or not proc.is_dir():
        return Check("inotify limits", True, "not a Linux host; nothing to check", severity="warning")
    low = []
    for key, minimum in INOTIFY.items():
        try:
            value = int((proc / key).read_text().strip())
        except (OSError, ValueError):
            continue
        if value < minimum:
            low.append(f"{key}={value} (< {minimum})")
    if low:
        return Check("inotify limits", False, "kind pods may fail with 'too many open files': " + ", ".join(low),
                     INOTIFY_FIX, severity="warning")
    return Check("inotify limits", True, "inotify limits are high enough for kind")


def check_server_version(git_version: str, release: StackRelease) -> Check:
    match = re.match(r"v?(\d+)\.(\d+)", git_version)
    minimum = tuple(int(p) for p in release.kubernetes_min.split("."))
    if not match:
        return Check("kubernetes version", False, f"cannot parse the server version {git_version!r}")
    found = (int(match.group(1)), int(match.group(2)))
    ok = found >= minimum
    return Check("kubernetes version", ok,
                 f"server {git_version}; KServe {release.kserve} needs >= {release.kubernetes_min}",
                 None if ok else f"use a newer cluster (kind node image {release.kind.node_image}) or an older "
                                 "KServe (--kserve-version)")


_KIND_VERSION = re.compile(r"\bkind (v\d+\.\d+\.\d+)")


def check_kind_release(version_line: str, pin: KindPin) -> Check:
    """A warning when `kind version` is not the kind release the pinned node image was built for: kind's
    release notes list node images per release, and another release may not boot them."""
    match = _KIND_VERSION.search(version_line)
    if match is None:
        return Check("kind release", False, f"cannot read the kind release from {version_line!r}",
                     f"kind {pin.kind_release} is the release {pin.node_image} is pinned for", "warning")
    found = match.group(1)
    if found == pin.kind_release:
        return Check("kind release", True, f"kind {found}, the release {pin.kubernetes} node image is pinned for")
    return Check("kind release", False, f"kind {found} installed, but the node image {pin.node_image} is pinned "
                 f"for kind {pin.kind_release}",
                 f"install kind {pin.kind_release}, or set kind.node_image in kslab.yaml to a node image that the "
                 f"release notes of kind {found} list", "warning")


def _kind_pin(settings: Settings) -> KindPin | None:
    """The pin to compare `kind version` with; None when the user chose the node image or the release is unknown."""
    if settings.kind.node_image:
        return None
    from kslab.errors import KslabError
    from kslab.stack.versions import load_matrix

    try:
        return load_matrix().release(settings.kserve_version).kind
    except KslabError:
        return None


def collect(checks: Iterable[Check], on_check: Callable[[Check], None] | None = None) -> list[Check]:
    """Run ``checks`` (a generator: each check runs when reached) and show each one as it finishes."""
    done: list[Check] = []
    for check in checks:
        done.append(check)
        if on_check is not None:
            on_check(check)
    return done


def cluster_tools() -> Iterator[Check]:
    """What every cluster provider needs on this machine."""
    yield check_binary("kubectl", ["version", "--client"])
    yield check_binary("helm", ["version", "--short"])


def kind_checks(settings: Settings) -> Iterator[Check]:
    yield from cluster_tools()
    kind = check_binary("kind", ["version"])
    yield kind
    pin = _kind_pin(settings) if kind.ok else None
    if pin is not None:
        yield check_kind_release(kind.detail, pin)
    engine, info = docker_info()
    yield engine
    if engine.ok:
        yield check_resources(int(info.get("NCPU", 0)), int(info.get("MemTotal", 0)), "the Docker engine")
    yield check_inotify()


def minikube_checks(settings: Settings) -> Iterator[Check]:
    yield from cluster_tools()
    yield check_binary("minikube", ["version", "--short"])
    if settings.minikube.driver == "docker":
        yield docker_info()[0]
    yield check_resources(settings.minikube.cpus, settings.minikube.memory_mb * 2**20, "the minikube profile")


def require_passing(checks: list[Check]) -> None:
    """Raise EnvironmentMissing (exit 3) listing every failed error-level check with its fix."""
    failed = [c for c in checks if not c.ok and c.severity == "error"]
    if not failed:
        return
    # lead with what matters first: without a Docker engine no kind/minikube cluster can run, whatever the tools
    failed.sort(key=lambda c: c.name != "docker engine")
    first = failed[0]
    more = f" (+{len(failed) - 1} more: {', '.join(c.name for c in failed[1:])})" if len(failed) > 1 else ""
    fix = first.fix
    if first.name == "docker engine":
        fix = f"{fix}; or run the lab without Docker: kslab lab --provider local"
    raise EnvironmentMissing(f"preflight: {first.name}: {first.detail}{more}", fix)
