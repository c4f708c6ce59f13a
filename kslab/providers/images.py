"""Putting images onto kind/minikube nodes: docker build/pull on the host, then kind load / minikube image load.

What is on a node: kind — ``docker exec <node> crictl images -o json`` on the cluster's first node (kind's
nodes are containers running containerd); minikube — ``minikube image ls -p <profile>``. Names compare
normalised the way containerd stores them (kslab/load:0.1.0 is docker.io/kslab/load:0.1.0).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from kslab.errors import CheckFailed, EnvironmentMissing
from kslab.models.cluster import LineSink
from kslab.util.process import ToolResult, run_tool


def normalize(ref: str) -> str:
    """containerd's name for an image reference: nginx -> docker.io/library/nginx:latest."""
    name, at, digest = ref.partition("@")
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    if not at and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + (at + digest if at else "")


class NodeImages(Protocol):
    """The node side of one cluster: which images it has, and loading one from the host's Docker."""

    how_to_load: str  # the command a user would run, with IMAGE in it

    def on_node(self, image: str) -> bool: ...

    def load(self, image: str, on_line: LineSink | None = None) -> None: ...


def _docker(args: list[str], timeout: float, on_line: LineSink | None = None) -> ToolResult:
    try:
        return run_tool("docker", args, timeout=timeout, on_stderr_line=on_line)
    except EnvironmentMissing as exc:
        raise EnvironmentMissing(f"{exc.message}: kslab builds and loads its images with docker",
                                 "install Docker (https://docs.docker.com/engine/install/) and start it") from None


def docker_build(tag: str, dockerfile: Path, context: Path, timeout: float, on_line: LineSink | None = None) -> None:
    """``docker build -t TAG -f DOCKERFILE CONTEXT``; CheckFailed with the last error line when it fails."""
    result = _docker(["build", "-t", tag, "-f", str(dockerfile), str(context)], timeout, on_line)
    if not result.ok:
        raise CheckFailed(f"docker build of {tag} failed: {result.last_error_line()}",
                          f"run it by hand to see the whole output: docker build -t {tag} -f {dockerfile} {context}")


def docker_pull(image: str, timeout: float, on_line: LineSink | None = None) -> str | None:
    """``docker pull IMAGE``; None when pulled, else the error line (callers decide how bad that is)."""
    result = _docker(["pull", image], timeout, on_line)
    return None if result.ok else result.last_error_line()


def _tags(listing: str) -> set[str]:
    return {normalize(tag) for tag in listing.split() if tag and not tag.startswith("<")}


class _ListedOnce:
    """The node's images are listed on the first question and remembered (plus what ``load`` puts there), so a
    run that asks about several images spawns one listing, not one per image."""

    _have: set[str] | None = None

    def _list(self) -> set[str]:
        raise NotImplementedError

    def on_node(self, image: str) -> bool:
        if self._have is None:
            self._have = self._list()
        return normalize(image) in self._have

    def _loaded(self, image: str) -> None:
        if self._have is not None:
            self._have.add(normalize(image))


class KindImages(_ListedOnce):
    def __init__(self, cluster: str, timeout: float) -> None:
        self.cluster = cluster
        self.timeout = timeout
        self.how_to_load = f"kind load docker-image IMAGE --name {cluster}"

    def _node(self) -> str:
        result = run_tool("kind", ["get", "nodes", "--name", self.cluster], timeout=60)
        nodes = result.stdout.split() if result.ok else []
        if not nodes:
            raise CheckFailed(f"kind cluster {self.cluster} has no nodes: {result.last_error_line()}",
                              "is it running? 'kslab up' creates it")
        return nodes[0]

    def _list(self) -> set[str]:
        result = _docker(["exec", self._node(), "crictl", "images", "-o", "json"], 60)
        if not result.ok:
            return set()
        try:
            listed = json.loads(result.stdout or "{}").get("images") or []
        except ValueError:
            return set()
        return {normalize(tag) for item in listed for tag in item.get("repoTags") or []}

    def load(self, image: str, on_line: LineSink | None = None) -> None:
        result = run_tool("kind", ["load", "docker-image", image, "--name", self.cluster], timeout=self.timeout,
                          on_stderr_line=on_line)
        if not result.ok:
            raise CheckFailed(f"kind load docker-image {image} failed: {result.last_error_line()}",
                              f"is it in the local Docker? docker image inspect {image}")
        self._loaded(image)


class MinikubeImages(_ListedOnce):
    def __init__(self, profile: str, timeout: float, env: Mapping[str, str] | None = None) -> None:
        self.profile = profile
        self.timeout = timeout
        self.env = dict(env or {})
        self.how_to_load = f"minikube image load IMAGE -p {profile}"

    def _list(self) -> set[str]:
        result = run_tool("minikube", ["image", "ls", "-p", self.profile], timeout=120, env=self.env)
        return _tags(result.stdout) if result.ok else set()

    def load(self, image: str, on_line: LineSink | None = None) -> None:
        result = run_tool("minikube", ["image", "load", image, "-p", self.profile], timeout=self.timeout,
                          env=self.env, on_stderr_line=on_line)
        if not result.ok:
            raise CheckFailed(f"minikube image load {image} failed: {result.last_error_line()}",
                              f"is it in the local Docker? docker image inspect {image}")
        self._loaded(image)
