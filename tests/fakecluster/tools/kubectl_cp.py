"""``kubectl cp LOCAL NS/POD:PATH -c CONTAINER``, emulated (the fake API server has no exec stream).

Real kubectl streams a tar into ``tar -xmf -`` run in the container (kubectl v1.37 ``cp``), so the pod must be
Running and have that container. Here the file lands on the fake node's disk instead: under a volume of the
pod that mounts a PersistentVolumeClaim, at ``$FAKE_TOOLS_STATE/volumes/<ns>/<claim>/<path below the mount>``
(kind's local-path provisioner also keeps a claim as a directory on the node); anywhere else, in the
container's own scratch directory, which nothing reads. The scenario harness serves a ``pvc://`` model from
that volume directory, so a model kslab copied is the model that answers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from .common import Api, ApiFailure, KubeconfigError, resolve_context
from .kubectl import USER_AGENT, parse_command

CP_VALUE_FLAGS = frozenset({"-c", "--container"})


class CopyError(Exception):
    """kubectl's own wording, printed on stderr; exit 1."""


def volume_dir(namespace: str, claim: str) -> Path:
    return Path(os.environ["FAKE_TOOLS_STATE"]) / "volumes" / namespace / claim


def _target_dir(pod: dict[str, Any], container: str, path: str) -> Path:
    spec = pod.get("spec") or {}
    meta = pod["metadata"]
    [chosen] = [c for c in spec.get("containers") or [] if c.get("name") == container] or [None]
    if chosen is None:
        raise CopyError(f'error: unable to upgrade connection: container not found ("{container}")')
    claims = {v["name"]: (v.get("persistentVolumeClaim") or {}).get("claimName") for v in spec.get("volumes") or []}
    target = PurePosixPath(path)
    for mount in sorted(chosen.get("volumeMounts") or [], key=lambda m: -len(m.get("mountPath", ""))):
        root = PurePosixPath(mount.get("mountPath", "/"))
        claim = claims.get(mount.get("name"))
        if claim and (target == root or root in target.parents):
            return volume_dir(meta["namespace"], claim) / target.relative_to(root)
    scratch = Path(os.environ["FAKE_TOOLS_STATE"]) / "containers" / meta["namespace"] / meta["name"] / container
    return scratch / target.relative_to("/")


def copy(argv: list[str]) -> int:
    flags, positionals = parse_command(argv, CP_VALUE_FLAGS)
    if len(positionals) != 2 or ":" not in positionals[1]:
        raise CopyError("error: source and destination are required")
    source, remote = Path(positionals[0]), positionals[1]
    if not source.exists():  # kubectl looks at the local side before it asks the server
        raise CopyError(f"error: {source} doesn't exist in local filesystem")
    pod_ref, _, path = remote.partition(":")
    namespace, _, pod_name = pod_ref.rpartition("/")
    try:
        server, ctx_namespace = resolve_context(flags.get("kubeconfig"), flags.get("context"))
    except KubeconfigError as exc:
        raise CopyError(f"error: {exc}") from None
    namespace = namespace or flags.get("namespace") or ctx_namespace or "default"
    api = Api(flags.get("server") or server, USER_AGENT, {"Kubectl-Command": "kubectl cp"})
    try:
        pod = api.get(f"/api/v1/namespaces/{namespace}/pods/{pod_name}")
    except ApiFailure as exc:
        if exc.status == 404:
            raise CopyError(f'Error from server (NotFound): pods "{pod_name}" not found') from None
        raise CopyError(f"error: {exc.message}") from None
    container = flags.get("container") or ((pod.get("spec") or {}).get("containers") or [{}])[0].get("name", "")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise CopyError(f"error: cannot exec into a container in a completed pod; current phase is {phase}")
    if phase != "Running":
        raise CopyError(f'error: unable to upgrade connection: container not found ("{container}")')
    destination = _target_dir(pod, container, path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
    else:
        shutil.copyfile(source, destination)
    return 0
