"""The short resource names scenario steps use, mapped to kslab.kube.resources refs."""

from __future__ import annotations

from kslab.kube import resources as R
from kslab.kube.resources import ResourceRef

SHORT_NAMES: dict[str, ResourceRef] = {
    "isvc": R.INFERENCE_SERVICE, "ksvc": R.KNATIVE_SERVICE, "revision": R.KNATIVE_REVISION, "route": R.KNATIVE_ROUTE,
    "configuration": R.KNATIVE_CONFIGURATION, "deployment": R.DEPLOYMENT, "service": R.SERVICE, "hpa": R.HPA,
    "pod": R.POD, "ingress": R.INGRESS, "configmap": R.CONFIGMAP, "podautoscaler": R.POD_AUTOSCALER,
}


def ref_for(short: str) -> ResourceRef:
    return SHORT_NAMES[short]


def ref_for_kind(api_version: str, kind: str) -> ResourceRef:
    """The ref of a manifest's apiVersion/kind (known kinds by table, others by the usual plural)."""
    known = [*SHORT_NAMES.values(), R.NAMESPACE, R.SECRET, R.SERVICE_ACCOUNT, R.PVC, R.INGRESS_CLASS, R.ENDPOINTS,
             R.SERVING_RUNTIME]
    for ref in known:
        if ref.api_version == api_version and ref.kind == kind:
            return ref
    lower = kind.lower()
    plural = lower + ("es" if lower.endswith(("s", "x", "ch", "sh")) else "s")
    return ResourceRef(api_version, kind, plural)
