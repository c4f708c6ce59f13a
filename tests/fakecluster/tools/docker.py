"""Fake ``docker`` CLI: client/server version, info, a local image list, and kind/minikube node containers.

State file ``docker.json`` (see ``fixture.FakeTools``): ``up`` (daemon reachable), ``images`` (list of
normalised references present locally), ``info`` (overrides for ``docker info`` fields such as NCPU,
MemTotal, ServerVersion), ``unpullable`` (references whose pull fails), ``unbuildable`` (tags whose
``docker build`` fails). When the daemon is down every
command that needs the server prints Docker's "Cannot connect to the Docker daemon ..." to stderr and
exits 1; ``docker --version`` is client-only and still works.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sys
from typing import Any

from .common import DOCKER_DOWN_MESSAGE, docker_state, err, fail, locked_state, out, read_state, record

CLIENT_VERSION = "28.4.0"
CLIENT_COMMIT = "d8eb465"
SERVER_COMMIT = "249d679"
API_VERSION = "1.51"
GO_VERSION = "go1.24.7"
DEFAULT_INFO: dict[str, Any] = {
    "ID": "F4KE:D0CK:ER00:0000:0000:0000:0000:0000:0000:0000:0000:0000", "Driver": "overlay2",
    "NCPU": 8, "MemTotal": 16_663_535_616, "ServerVersion": CLIENT_VERSION, "OperatingSystem": "Ubuntu 24.04.3 LTS",
    "OSType": "linux", "Architecture": "x86_64", "KernelVersion": "6.8.0-85-generic", "Name": "fakehost",
    "CgroupDriver": "systemd", "CgroupVersion": "2", "MemoryLimit": True, "SwapLimit": True, "PidsLimit": True,
    "CPUShares": True, "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
    "DockerRootDir": "/var/lib/docker", "Containers": 0, "Images": 0,
}
KICBASE_IMAGE = "gcr.io/k8s-minikube/kicbase:v0.0.48"


# -- image references -------------------------------------------------------------------------------
def normalize(ref: str) -> str:
    """Docker's normalised name: nginx -> docker.io/library/nginx:latest."""
    name, sep, digest = ref.partition("@")
    first = name.split("/", 1)[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        name = f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"
    if not sep and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + (sep + digest if sep else "")


def familiar(ref: str) -> str:
    """The short form docker prints: docker.io/library/nginx:latest -> nginx:latest."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def split_ref(ref: str) -> tuple[str, str]:
    """(repository, tag) as `docker images` shows them; digest references have tag <none>."""
    short = familiar(normalize(ref))
    if "@" in short:
        return short.split("@", 1)[0].rsplit(":", 1)[0], "<none>"
    repo, _, tag = short.rpartition(":")
    return repo, tag


def image_id(ref: str) -> str:
    return "sha256:" + hashlib.sha256(normalize(ref).encode()).hexdigest()


def new_container_id() -> str:
    """A container id as the daemon makes one: 64 random hex digits, new for every container (docker/docker
    pkg/stringid GenerateRandomID); `docker ps` prints its first 12 unless --no-trunc (docker/cli
    cli/command/formatter/container.go, TruncateID)."""
    return secrets.token_hex(32)


def _short_id(container_id: str, no_trunc: bool) -> str:
    return container_id if no_trunc else container_id[:12]


def has_image(ref: str) -> bool:
    return normalize(ref) in {normalize(i) for i in docker_state().get("images", [])}


def add_image(ref: str) -> None:
    with locked_state("docker", {"up": True}) as state:
        images = state.setdefault("images", [])
        if normalize(ref) not in {normalize(i) for i in images}:
            images.append(normalize(ref))


# -- a small Go-template subset for --format --------------------------------------------------------
_ACTION = re.compile(r"{{-?\s*(.*?)\s*-?}}")


def _lookup(data: Any, path: str) -> Any:
    value = data
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _show(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_show(v)}" for k, v in value.items()) + "]"
    return str(value)


def render(template: str, data: Any) -> str:
    """{{json .}}, {{json .A}}, {{.A.B}}, {{.Label "k"}}, {{index .A "k"}}; enough for docker/kind callers."""
    def action(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr.startswith("json "):
            return json.dumps(_lookup(data, expr[5:].strip().lstrip(".")) if expr[5:].strip() != "." else data,
                              separators=(",", ":"))
        label = re.fullmatch(r'\.Label\s+"([^"]*)"', expr)
        if label:
            return str((data.get("Labels") or {}).get(label.group(1), ""))
        index = re.fullmatch(r'index\s+(\.\S*)\s+"([^"]*)"', expr)
        if index:
            return _show((_lookup(data, index.group(1).lstrip(".")) or {}).get(index.group(2)))
        if expr == ".":
            return _show(data)
        return _show(_lookup(data, expr.lstrip(".")))
    return _ACTION.sub(action, template)


def _pop_format(args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg in ("--format", "-f") and i + 1 < len(args):
            value = args[i + 1]
            del args[i:i + 2]
            return value
        if arg.startswith("--format="):
            del args[i]
            return arg.split("=", 1)[1]
    return None


# -- commands ---------------------------------------------------------------------------------------
def _require_daemon() -> None:
    if not docker_state().get("up", True):
        fail(DOCKER_DOWN_MESSAGE)


def _version_data(up: bool) -> dict[str, Any]:
    client = {"Platform": {"Name": "Docker Engine - Community"}, "Version": CLIENT_VERSION, "ApiVersion": API_VERSION,
              "DefaultAPIVersion": API_VERSION, "GitCommit": CLIENT_COMMIT, "GoVersion": GO_VERSION, "Os": "linux",
              "Arch": "amd64", "BuildTime": "Wed Sep  3 20:57:32 2025", "Context": "default"}
    if not up:
        return {"Client": client, "Server": None}
    info = {**DEFAULT_INFO, **docker_state().get("info", {})}
    server = {"Platform": {"Name": "Docker Engine - Community"}, "Version": info["ServerVersion"],
              "ApiVersion": API_VERSION, "MinAPIVersion": "1.24", "GitCommit": SERVER_COMMIT, "GoVersion": GO_VERSION,
              "Os": "linux", "Arch": "amd64", "KernelVersion": info["KernelVersion"],
              "Components": [{"Name": "Engine", "Version": info["ServerVersion"]},
                             {"Name": "containerd", "Version": "1.7.27"}]}
    return {"Client": client, "Server": server}


def cmd_version(args: list[str]) -> int:
    fmt = _pop_format(args)
    up = bool(docker_state().get("up", True))
    data = _version_data(up)
    if fmt is not None:
        if up or ".Server" not in fmt:
            out(render(fmt, data))
        if not up:
            fail(DOCKER_DOWN_MESSAGE)
        return 0
    c = data["Client"]
    out(f"Client: Docker Engine - Community\n Version:           {c['Version']}\n API version:       {API_VERSION}\n"
        f" Go version:        {GO_VERSION}\n Git commit:        {CLIENT_COMMIT}\n Built:             {c['BuildTime']}\n"
        " OS/Arch:           linux/amd64\n Context:           default")
    if not up:
        fail(DOCKER_DOWN_MESSAGE)
    s = data["Server"]
    out(f"\nServer: Docker Engine - Community\n Engine:\n  Version:          {s['Version']}\n"
        f"  API version:      {API_VERSION} (minimum version 1.24)\n  Go version:       {GO_VERSION}\n"
        f"  Git commit:       {SERVER_COMMIT}\n  OS/Arch:          linux/amd64\n  Experimental:     false\n"
        " containerd:\n  Version:          1.7.27")
    return 0


def cmd_info(args: list[str]) -> int:
    fmt = _pop_format(args)
    if not docker_state().get("up", True):
        if fmt is None:
            out("Client: Docker Engine - Community\n Version:    " + CLIENT_VERSION + "\n Context:    default\n"
                " Debug Mode: false\n\nServer:")
            fail("ERROR: " + DOCKER_DOWN_MESSAGE + "\nerrors pretty printing info")
        fail(DOCKER_DOWN_MESSAGE)
    state = docker_state()
    info = {**DEFAULT_INFO, **state.get("info", {})}
    info["Images"] = len(state.get("images", []))
    info["Containers"] = len(_containers())
    if fmt is not None:
        out(render(fmt, info))
        return 0
    out(f"Client: Docker Engine - Community\n Version:    {CLIENT_VERSION}\n Context:    default\n"
        f" Debug Mode: false\n\nServer:\n Containers: {info['Containers']}\n Images: {info['Images']}\n"
        f" Server Version: {info['ServerVersion']}\n Storage Driver: {info['Driver']}\n"
        f" Cgroup Driver: {info['CgroupDriver']}\n Cgroup Version: {info['CgroupVersion']}\n"
        f" Kernel Version: {info['KernelVersion']}\n Operating System: {info['OperatingSystem']}\n"
        f" OSType: {info['OSType']}\n Architecture: {info['Architecture']}\n CPUs: {info['NCPU']}\n"
        f" Total Memory: {int(info['MemTotal']) / 1024 ** 3:.2f}GiB\n Name: {info['Name']}\n"
        f" Docker Root Dir: {info['DockerRootDir']}")
    return 0


def _image_record(ref: str) -> dict[str, Any]:
    return {"Id": image_id(ref), "RepoTags": [familiar(ref)], "RepoDigests": [], "Created": "2025-08-01T00:00:00Z",
            "Size": 100_000_000 + int(image_id(ref)[7:13], 16) % 50_000_000, "Os": "linux", "Architecture": "amd64"}


def cmd_image_inspect(args: list[str]) -> int:
    _require_daemon()
    fmt = _pop_format(args)
    refs = [a for a in args if not a.startswith("-")]
    found = [normalize(r) for r in refs if has_image(r)]
    missing = [r for r in refs if not has_image(r)]
    if fmt is not None:
        for ref in found:
            out(render(fmt, _image_record(ref)))
    else:
        out(json.dumps([_image_record(r) for r in found], indent=4))
    if missing:
        fail("\n".join(f"Error response from daemon: No such image: {r}" for r in missing))
    return 0


def cmd_pull(args: list[str]) -> int:
    _require_daemon()
    refs = [a for a in args if not a.startswith("-")]
    if len(refs) != 1:
        fail('"docker pull" requires exactly 1 argument.\nSee \'docker pull --help\'.\n\n'
             "Usage:  docker pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry")
    ref = refs[0]
    full = normalize(ref)
    if full in {normalize(r) for r in docker_state().get("unpullable", [])}:
        repo = familiar(full).rsplit(":", 1)[0]
        fail(f"Error response from daemon: pull access denied for {repo}, repository does not exist or may "
             "require 'docker login': denied: requested access to the resource is denied")
    tag = full.rsplit(":", 1)[1] if "@" not in full else full.split("@", 1)[1]
    path = split_ref(full)[0]
    path = path if "/" in path else f"library/{path}"
    status = "Image is up to date for" if has_image(ref) else "Downloaded newer image for"
    add_image(ref)
    out(f"{tag}: Pulling from {path}\nDigest: sha256:{image_id(ref)[7:]}\nStatus: {status} {familiar(full)}\n{full}")
    return 0


def cmd_images(args: list[str]) -> int:
    _require_daemon()
    fmt = _pop_format(args)
    quiet = "-q" in args or "--quiet" in args
    for ref in docker_state().get("images", []) if (fmt or quiet) else []:
        repo, tag = split_ref(ref)
        row = {"Repository": repo, "Tag": tag, "ID": image_id(ref)[7:19], "Size": "150MB", "CreatedSince": "3 months"}
        out(row["ID"] if quiet else render(fmt or "", row))
    if not fmt and not quiet:
        out(f"{'REPOSITORY':<40} {'TAG':<12} {'IMAGE ID':<14} {'CREATED':<14} SIZE")
        for ref in docker_state().get("images", []):
            repo, tag = split_ref(ref)
            out(f"{repo:<40} {tag:<12} {image_id(ref)[7:19]:<14} {'3 months ago':<14} 150MB")
    return 0


def cmd_tag(args: list[str]) -> int:
    _require_daemon()
    src, dst = [*args, "", ""][:2]
    if not has_image(src):
        fail(f"Error response from daemon: No such image: {src}")
    add_image(dst)
    return 0


def cmd_rmi(args: list[str]) -> int:
    _require_daemon()
    for ref in [a for a in args if not a.startswith("-")]:
        if not has_image(ref):
            fail(f"Error response from daemon: No such image: {ref}")
        with locked_state("docker", {"up": True}) as state:
            state["images"] = [i for i in state.get("images", []) if normalize(i) != normalize(ref)]
        out(f"Untagged: {familiar(normalize(ref))}")
    return 0


def _containers() -> list[dict[str, Any]]:
    """kind node containers and minikube profile containers, as `docker ps` shows them."""
    rows: list[dict[str, Any]] = []
    for name, cluster in sorted(read_state("kind").get("clusters", {}).items()):
        for node in cluster.get("nodes", []):
            labels = {"io.x-k8s.kind.cluster": name, "io.x-k8s.kind.role": node["role"]}
            rows.append({"Names": node["name"], "Image": node["image"], "Labels": labels,
                         "Ports": node.get("ports", ""), "ID": node.get("container_id") or image_id(node["name"])[7:]})
    for name, profile in sorted(read_state("minikube").get("profiles", {}).items()):
        labels = {"name.minikube.sigs.k8s.io": name, "role.minikube.sigs.k8s.io": ""}
        rows.append({"Names": name, "Image": KICBASE_IMAGE, "Labels": labels, "Ports": "",
                     "ID": profile.get("container_id") or image_id("minikube-" + name)[7:],
                     "Status": profile.get("status", "Up")})
    for row in rows:
        row.setdefault("Status", "Up 5 minutes")
        row["Label"] = ""
    return rows


def _filter(rows: list[dict[str, Any]], filters: list[str]) -> list[dict[str, Any]]:
    for spec in filters:
        key, _, value = spec.partition("=")
        if key == "label":
            lkey, has_value, lvalue = value.partition("=")
            rows = [r for r in rows if lkey in r["Labels"] and (not has_value or r["Labels"][lkey] == lvalue)]
        elif key == "name":
            rows = [r for r in rows if value in r["Names"]]
    return rows


def cmd_ps(args: list[str]) -> int:
    _require_daemon()
    fmt = _pop_format(args)
    filters = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--filter"]
    filters += [a.split("=", 1)[1] for a in args if a.startswith("--filter=")]
    rows = [{**row, "ID": _short_id(row["ID"], "--no-trunc" in args)} for row in _filter(_containers(), filters)]
    if fmt is not None:
        for row in rows:
            out(render(fmt, row))
        return 0
    out("CONTAINER ID   IMAGE                  COMMAND                  CREATED         STATUS         PORTS     NAMES")
    for row in rows:
        out(f"{row['ID']}   {row['Image']:<20} \"/usr/local/bin/entr…\"   5 minutes ago   {row['Status']:<14} "
            f"{row['Ports'] or '':<9} {row['Names']}")
    return 0


COMMANDS = {"version": cmd_version, "info": cmd_info, "pull": cmd_pull, "images": cmd_images, "tag": cmd_tag,
            "rmi": cmd_rmi, "ps": cmd_ps}
IMAGE_COMMANDS = {"inspect": cmd_image_inspect, "pull": cmd_pull, "ls": cmd_images, "list": cmd_images,
                  "tag": cmd_tag, "rm": cmd_rmi}


def main(argv: list[str]) -> int:
    record("docker", argv)
    args = list(argv)
    while args and args[0] in ("-D", "--debug", "-l", "--log-level"):
        args = args[2:] if args[0] in ("-l", "--log-level") else args[1:]
    if not args:
        out("Usage:  docker [OPTIONS] COMMAND")
        return 0
    if args[0] in ("--version", "-v"):
        out(f"Docker version {CLIENT_VERSION}, build {CLIENT_COMMIT}")
        return 0
    command, rest = args[0], args[1:]
    if command == "image" and rest and rest[0] in IMAGE_COMMANDS:
        return IMAGE_COMMANDS[rest[0]](rest[1:])
    if command == "inspect":
        return cmd_image_inspect(rest)
    if command == "system" and rest[:1] == ["info"]:
        return cmd_info(rest[1:])
    from .docker_node import NODE_COMMANDS

    handler = COMMANDS.get(command) or NODE_COMMANDS.get(command)
    if handler is None:
        err(f"docker: unknown command: docker {command}\n\nRun 'docker --help' for more information")
        return 1
    return handler(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
