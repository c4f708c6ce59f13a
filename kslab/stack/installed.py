"""What the cluster really runs, read from the objects themselves (no Helm needed).

The KServe version is the tag of the controller image (``kserve/kserve-controller:v0.20.0``), which the
charts of every release set from the chart version; Knative Serving counts as installed when its
controller Deployment or the ``services.serving.knative.dev`` CRD exists.
"""

from __future__ import annotations

from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.models.stack import StackMatrix

KSERVE_NAMESPACE = "kserve"
KSERVE_CONTROLLER = "kserve-controller-manager"


def _minor_tuple(version: str) -> tuple[int, ...]:
    parts = version.lstrip("v").split(".")[:2]
    return tuple(int("".join(ch for ch in p if ch.isdigit()) or 0) for p in parts)


def installed_kserve_version(kube: Kube) -> str | None:
    """'v0.20.0' from the controller Deployment's ``manager`` image; None when KServe is not there."""
    deployment = kube.find(R.DEPLOYMENT, KSERVE_CONTROLLER, KSERVE_NAMESPACE)
    if deployment is None:
        return None
    containers = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    for container in containers:
        image = str(container.get("image") or "")
        if "kserve-controller" in image and ":" in image.rsplit("/", 1)[-1]:
            return image.rsplit(":", 1)[-1].split("@")[0]
    return ""


def knative_installed(kube: Kube) -> bool:
    return (kube.find(R.DEPLOYMENT, "controller", "knative-serving") is not None
            or kube.find(R.CRD, "services.serving.knative.dev") is not None)


def mode_names_known(matrix: StackMatrix, version: str) -> set[str]:
    """Deployment-mode names a KServe release accepts: its own and those of every older release in the
    matrix (0.16+ still accepts Serverless/RawDeployment; 0.15 knows only those)."""
    wanted = _minor_tuple(version)
    names: set[str] = set()
    for minor, release in matrix.releases.items():
        if _minor_tuple(minor) <= wanted:
            names.update(release.deployment_modes.values())
    return names
