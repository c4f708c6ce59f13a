"""Render manifests/isvc and manifests/storage templates: fill {placeholders}, drop keys left empty, parse."""

from __future__ import annotations

from typing import Any

import yaml

from kslab.models.catalog import CatalogModel
from kslab.models.stack import StackRelease
from kslab.paths import manifests_dir
from kslab.stack.components import fill

Obj = dict[str, Any]
ISVC_TEMPLATE = "isvc/inferenceservice.yaml"


def prune_empty(data: Any) -> Any:
    """Remove mapping keys whose value rendered to "" (optional fields the template leaves out)."""
    if isinstance(data, dict):
        return {k: prune_empty(v) for k, v in data.items() if v != ""}
    if isinstance(data, list):
        return [prune_empty(v) for v in data]
    return data


def render_manifests(relative: str, values: dict[str, str]) -> list[Obj]:
    """Every document of manifests/<relative>, placeholders filled, empty values pruned."""
    text = fill((manifests_dir() / relative).read_text(encoding="utf-8"), values, relative)
    return [prune_empty(doc) for doc in yaml.safe_load_all(text) if doc]


def isvc_values(model: CatalogModel, release: StackRelease, *, name: str, namespace: str, mode: str, protocol: str,
                runtime: str, storage_uri: str, service_account: str = "") -> dict[str, str]:
    """Placeholder values of the InferenceService template (runtime "" leaves the choice to KServe)."""
    return {"name": name, "namespace": namespace, "deployment_mode": release.deployment_mode(mode),
            "model_format": model.format, "runtime": runtime, "protocol": protocol, "storage_uri": storage_uri,
            "service_account": service_account}


def render_isvc(values: dict[str, str]) -> Obj:
    [isvc] = render_manifests(ISVC_TEMPLATE, values)
    return isvc
