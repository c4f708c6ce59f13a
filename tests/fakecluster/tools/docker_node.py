"""Fake ``docker build`` and ``docker exec <kind node> crictl images``: images kslab builds, and what a node has.

``build`` checks the context and Dockerfile exist like BuildKit does, then adds each ``-t`` tag to the local
image list (``unbuildable`` tags in ``docker.json`` fail). ``exec`` answers only ``crictl images`` on a kind
node container, listing the images ``kind load docker-image`` put on that cluster (``kind.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

from .common import err, fail, out, read_state
from .docker import _require_daemon, add_image, docker_state, familiar, image_id, normalize


def cmd_build(args: list[str]) -> int:
    """``docker build -t TAG [-f DOCKERFILE] CONTEXT``: the tag joins the image list (BuildKit-style progress)."""
    _require_daemon()
    tags, dockerfile, positionals, i = [], None, [], 0
    while i < len(args):
        if args[i] in ("-t", "--tag", "-f", "--file") and i + 1 < len(args):
            if args[i] in ("-t", "--tag"):
                tags.append(args[i + 1])
            else:
                dockerfile = args[i + 1]
            i += 2
            continue
        positionals.append(args[i])
        i += 1
    if len(positionals) != 1:
        fail('ERROR: docker: \'docker buildx build\' requires 1 argument\n\nUsage:  docker buildx build [OPTIONS] '
             "PATH | URL | -")
    context = Path(positionals[0])
    if not context.is_dir():
        fail(f'ERROR: failed to build: unable to prepare context: path "{positionals[0]}" not found')
    recipe = Path(dockerfile) if dockerfile else context / "Dockerfile"
    if not recipe.is_file():
        fail(f"ERROR: failed to build: failed to solve: failed to read dockerfile: open {recipe.name}: "
             "no such file or directory")
    for ref in {normalize(r) for r in docker_state().get("unbuildable", [])} & {normalize(t) for t in tags}:
        fail(f"ERROR: failed to build: failed to solve: process \"/bin/sh -c pip install\" did not complete "
             f"successfully: exit code: 1 ({familiar(ref)})")
    err(f"#0 building with \"default\" instance using docker driver\n#1 [internal] load build definition from "
        f"{recipe.name}\n#1 DONE 0.0s")
    for tag in tags:
        add_image(tag)
        err(f"#9 naming to {normalize(tag)} done")
    return 0


def cmd_exec(args: list[str]) -> int:
    """``docker exec NODE crictl images -o json`` on a kind node: the images ``kind load`` put there."""
    _require_daemon()
    rest = [a for a in args if a not in ("-i", "-t", "-it")]
    if not rest:
        fail('"docker exec" requires at least 2 arguments.')
    node, command = rest[0], rest[1:]
    cluster = next((c for c in read_state("kind").get("clusters", {}).values()
                    if any(n["name"] == node for n in c.get("nodes", []))), None)
    if cluster is None:
        fail(f"Error response from daemon: No such container: {node}")
    if command[:2] != ["crictl", "images"]:
        fail(f"fake docker: exec {' '.join(command)} is not simulated")
    refs = sorted({normalize(r) for r in cluster.get("loaded_images", [])})
    if "-o" in command and "json" in command:
        out(json.dumps({"images": [{"id": image_id(r), "repoTags": [r], "repoDigests": [], "size": "150000000",
                                    "uid": None, "username": "", "spec": None, "pinned": False} for r in refs]},
                       indent=2))
        return 0
    out(f"{'IMAGE':<60} {'TAG':<20} {'IMAGE ID':<15} SIZE")
    for ref in refs:
        repo, _, tag = ref.rpartition(":")
        out(f"{repo:<60} {tag:<20} {image_id(ref)[7:20]:<15} 150MB")
    return 0


NODE_COMMANDS = {"build": cmd_build, "exec": cmd_exec}
