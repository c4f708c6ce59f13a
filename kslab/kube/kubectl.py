"""The few things kslab does with the real kubectl binary rather than the API: copying files into a pod."""

from __future__ import annotations

from pathlib import Path

from kslab.errors import CheckFailed
from kslab.models.cluster import ClusterAccess
from kslab.util.process import run_tool


def cluster_args(access: ClusterAccess) -> list[str]:
    args = []
    if access.kubeconfig:
        args += ["--kubeconfig", access.kubeconfig]
    if access.context:
        args += ["--context", access.context]
    return args


def copy_into_pod(access: ClusterAccess, source: Path, namespace: str, pod: str, container: str, target: str,
                  timeout: float = 300) -> None:
    """``kubectl cp SOURCE NS/POD:TARGET -c CONTAINER`` (needs tar in the container image)."""
    result = run_tool("kubectl", [*cluster_args(access), "cp", str(source), f"{namespace}/{pod}:{target}",
                                  "-c", container], timeout=timeout)
    if not result.ok:
        raise CheckFailed(f"kubectl cp {source} into pod {namespace}/{pod} failed: {result.last_error_line()}",
                          f"check the helper pod: kubectl describe pod {pod} -n {namespace}")
