"""The model catalog (manifests/models/catalog.yaml) as typed objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kslab.errors import UsageError
from kslab.paths import manifests_dir


@dataclass(frozen=True)
class Sample:
    instances: list[list[float]]
    expect: list[int]
    source: str = ""


@dataclass(frozen=True)
class BuildRecipe:
    estimator: str  # "<sklearn submodule>.<class>", e.g. "svm.SVC"
    params: dict[str, Any] = field(default_factory=dict)
    shuffle_labels: bool = False  # train on permuted labels: a deliberately worse model (a canary to roll back)


@dataclass(frozen=True)
class CatalogModel:
    name: str
    format: str
    runtime: str
    storage_uri: str
    features: tuple[str, ...]
    classes: tuple[str, ...]
    samples: tuple[Sample, ...]
    builds: dict[str, BuildRecipe]
    test_size: float = 0.3
    random_state: int = 42
    versions: dict[str, str] = field(default_factory=dict)  # hosted model version -> storage URI

    def storage_uri_of(self, version: str) -> str:
        """The storage URI of a hosted model version (catalog ``versions``)."""
        if version not in self.versions:
            raise UsageError(f"{self.name} has no hosted version {version!r}",
                             f"versions in manifests/models/catalog.yaml: {', '.join(self.versions) or 'none'}")
        return self.versions[version]

    def build(self, version: str) -> BuildRecipe:
        if version not in self.builds:
            raise UsageError(f"{self.name} has no build {version!r}", f"choose one of {', '.join(self.builds)}")
        return self.builds[version]


def load_catalog(path: Path | None = None) -> dict[str, CatalogModel]:
    source = path or manifests_dir() / "models" / "catalog.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))["models"]
    out = {}
    for name, spec in raw.items():
        out[name] = CatalogModel(
            name=name, format=spec["format"], runtime=spec["runtime"], storage_uri=spec["storage_uri"],
            features=tuple(spec["features"]), classes=tuple(spec["classes"]),
            samples=tuple(Sample(**s) for s in spec["samples"]),
            builds={v: BuildRecipe(**b) for v, b in (spec.get("builds") or {}).items()},
            test_size=float(spec.get("test_size", 0.3)), random_state=int(spec.get("random_state", 42)),
            versions={str(k): str(v) for k, v in (spec.get("versions") or {}).items()})
    return out


def catalog_model(name: str) -> CatalogModel:
    catalog = load_catalog()
    if name not in catalog:
        raise UsageError(f"unknown model {name!r}", f"models in manifests/models/catalog.yaml: {', '.join(catalog)}")
    return catalog[name]
