"""Where the model comes from: a URI as is (gs://, https://, ...), a PVC filled from a local model directory,
or s3:// with a credentials Secret and ServiceAccount (kserve/kserve@v0.20.0:pkg/credentials/s3/s3_secret.go).

pvc: apply manifests/storage/pvc.yaml, start the helper pod of manifests/storage/copy-pod.yaml, wait until it
is Ready, `kubectl cp` each file of the model directory into it, delete it; storageUri pvc://<pvc>/<name>.
s3: read the keys from --s3-credentials or $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, register them for
redaction, apply manifests/storage/s3.yaml with the keys set after parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kslab.deploy.render import render_manifests
from kslab.deploy.request import DeployRequest, S3Options
from kslab.errors import UsageError
from kslab.kube import kubectl
from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.wait import wait_for
from kslab.models.catalog import CatalogModel
from kslab.models.cluster import ClusterAccess
from kslab.stack.readiness import pod_ready
from kslab.util.redact import register_secret

Observer = Callable[[str, str, str], None]
PVC_NAME = "kslab-models"
PVC_SIZE = "1Gi"
_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class StoragePlan:
    kind: str  # uri | pvc | s3
    storage_uri: str
    service_account: str = ""  # s3: the ServiceAccount holding the credentials Secret
    secret: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "storage_uri": self.storage_uri, "service_account": self.service_account}


def plan_storage(request: DeployRequest, model: CatalogModel) -> StoragePlan:
    if request.storage == "pvc":
        return StoragePlan("pvc", f"pvc://{PVC_NAME}/{request.name}")
    if request.storage == "s3":
        return StoragePlan("s3", str(request.storage_uri), f"kslab-s3-{request.name}", f"kslab-s3-{request.name}")
    return StoragePlan("uri", request.storage_uri or model.storage_uri)


def read_s3_credentials(options: S3Options, environ: Mapping[str, str]) -> dict[str, str]:
    """AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the file (KEY=VALUE or AWS ini lines) or ``environ`` (the
    session's Environment.environ)."""
    found: dict[str, str] = {}
    if options.credentials_file is not None:
        try:
            lines = options.credentials_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"cannot read --s3-credentials {options.credentials_file}: {exc.strerror}") from None
        for line in lines:
            key, sep, value = line.partition("=")
            if sep and key.strip().upper() in _KEYS:
                found[key.strip().upper()] = value.strip().strip("'\"")
    else:
        found = {key: environ[key] for key in _KEYS if environ.get(key)}
    for value in found.values():
        register_secret(value)
    missing = [key for key in _KEYS if not found.get(key)]
    if missing:
        where = str(options.credentials_file) if options.credentials_file else "the environment"
        raise UsageError(f"s3 credentials: {', '.join(missing)} not found in {where}",
                         "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --s3-credentials FILE")
    return found


def s3_objects(plan: StoragePlan, options: S3Options, credentials: dict[str, str], name: str,
               namespace: str) -> list[dict[str, Any]]:
    values = {"name": name, "namespace": namespace, "secret": plan.secret, "service_account": plan.service_account,
              "endpoint": options.endpoint, "use_https": "1" if options.use_https else "0",
              "verify_ssl": "1" if options.use_https else "0", "region": options.region}
    docs = render_manifests("storage/s3.yaml", values)
    for doc in docs:
        if doc["kind"] == "Secret":
            doc["stringData"] = dict(credentials)
    return docs


def copy_pod_manifests(name: str, namespace: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(PVC, helper pod) for copying ``name``'s model into pvc://kslab-models/<name>."""
    values = {"pvc": PVC_NAME, "namespace": namespace, "size": PVC_SIZE, "pod": f"kslab-copy-{name}", "path": name}
    [pvc] = render_manifests("storage/pvc.yaml", values)
    [pod] = render_manifests("storage/copy-pod.yaml", values)
    return pvc, pod


def copy_model_to_pvc(kube: Kube, access: ClusterAccess, model_dir: Path, name: str, namespace: str,
                      timeout: float, observe: Observer) -> dict[str, Any]:
    pvc, pod = copy_pod_manifests(name, namespace)
    pod_name = pod["metadata"]["name"]
    kube.apply(R.PVC, pvc, namespace)
    if kube.find(R.POD, pod_name, namespace) is not None:
        kube.delete(R.POD, pod_name, namespace)
        wait_for(kube, R.POD, pod_name, namespace, lambda o: o is None, timeout=timeout, what="deleted")
    kube.create(R.POD, pod, namespace)
    files = sorted(p for p in model_dir.iterdir() if p.is_file())
    try:
        observe("storage", "wait", f"helper pod {pod_name} Ready")
        wait_for(kube, R.POD, pod_name, namespace, pod_ready, timeout=timeout, what="Ready")
        for path in files:
            observe("storage", "copy", f"{path.name} -> pvc://{PVC_NAME}/{name}/")
            kubectl.copy_into_pod(access, path, namespace, pod_name, "copy", f"/pvc/{name}/{path.name}")
    finally:
        kube.delete(R.POD, pod_name, namespace)
    return {"pvc": PVC_NAME, "path": name, "files": [p.name for p in files], "helper_pod": pod_name}


def prepare_storage(kube: Kube, access: ClusterAccess, request: DeployRequest, plan: StoragePlan, namespace: str,
                    observe: Observer, environ: Mapping[str, str]) -> dict[str, Any]:
    """Create what the storage URI needs in the cluster; the returned observations hold no secret. ``environ``:
    where s3 keys come from without --s3-credentials (the session's Environment.environ)."""
    if plan.kind == "pvc" and request.model_dir is not None:
        return copy_model_to_pvc(kube, access, request.model_dir, request.name, namespace, request.timeout, observe)
    if plan.kind == "s3" and request.s3 is not None:
        credentials = read_s3_credentials(request.s3, environ)
        for doc in s3_objects(plan, request.s3, credentials, request.name, namespace):
            kube.apply(R.SECRET if doc["kind"] == "Secret" else R.SERVICE_ACCOUNT, doc, namespace)
            observe("storage", "apply", f"{doc['kind']} {doc['metadata']['name']}")
        return {"secret": plan.secret, "service_account": plan.service_account, "endpoint": request.s3.endpoint}
    return {}


def delete_storage_objects(kube: Kube, name: str, namespace: str) -> list[str]:
    """The Secret and ServiceAccount kslab made for ``name``'s s3 storage (the shared PVC stays)."""
    deleted = []
    selector = f"app.kubernetes.io/managed-by=kslab,app.kubernetes.io/instance={name}"
    for ref in (R.SECRET, R.SERVICE_ACCOUNT):
        for obj in kube.list(ref, namespace, label_selector=selector)[0]:
            kube.delete(ref, obj["metadata"]["name"], namespace)
            deleted.append(f"{ref.kind}/{obj['metadata']['name']}")
    return deleted
