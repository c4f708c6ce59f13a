"""What tells a cluster kslab created from a same-named one made later: the ids of its node containers.

kind labels every node container ``io.x-k8s.kind.cluster=<name>`` and minikube's docker driver labels its
container ``name.minikube.sigs.k8s.io=<profile>``; Docker gives each new container a new random id, so a cluster
deleted and created again under the same name has other ids. ``docker ps -a`` lists stopped nodes too.
"""

from __future__ import annotations

from kslab.errors import CheckFailed
from kslab.util.process import run_tool

KIND_CLUSTER_LABEL = "io.x-k8s.kind.cluster"
MINIKUBE_PROFILE_LABEL = "name.minikube.sigs.k8s.io"


def container_ids(label: str, value: str) -> str | None:
    """The sorted, comma-joined ids of the containers labelled ``label=value``; None when there are none;
    CheckFailed when docker cannot say."""
    result = run_tool("docker", ["ps", "-a", "--filter", f"label={label}={value}", "--format", "{{.ID}}"],
                      timeout=60)
    if not result.ok:
        raise CheckFailed(f"docker ps failed: {result.last_error_line()}")
    return ",".join(sorted(result.stdout.split())) or None
