"""What kslab owns in a cluster: the managed-by label, namespaces it creates, objects it applied."""

from __future__ import annotations

from typing import Any

from kslab.kube import resources as R
from kslab.kube.client import FIELD_MANAGER, Kube

MANAGED_BY_LABEL = ("app.kubernetes.io/managed-by", "kslab")


def managed_labels() -> dict[str, str]:
    return {MANAGED_BY_LABEL[0]: MANAGED_BY_LABEL[1]}


def ensure_namespace(kube: Kube, name: str) -> None:
    """Create ``name`` labelled as kslab's (so `kslab down` may delete it); leave an existing one alone."""
    if kube.find(R.NAMESPACE, name) is None:
        kube.apply(R.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": name, "labels": managed_labels()}})


def managed_by_kslab(obj: dict[str, Any] | None) -> bool:
    """The object carries kslab's label, or kslab's field manager applied it."""
    meta = (obj or {}).get("metadata") or {}
    if (meta.get("labels") or {}).get(MANAGED_BY_LABEL[0]) == MANAGED_BY_LABEL[1]:
        return True
    return any(entry.get("manager") == FIELD_MANAGER for entry in meta.get("managedFields") or meta.get(
        "managed_fields") or [])


def cluster_uid(kube: Kube) -> str:
    """The kube-system namespace's uid: every cluster has that namespace, and a new cluster gives it a new uid."""
    return str(kube.get(R.NAMESPACE, "kube-system")["metadata"]["uid"])
