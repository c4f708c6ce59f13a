"""The version matrix in manifests/stack/versions.yaml, as typed objects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kslab.errors import ConfigError
from kslab.models.stack import KindPin, StackMatrix, StackRelease
from kslab.paths import manifests_dir

_KIND_RELEASE = re.compile(r"^v\d+\.\d+\.\d+$")
_NODE_IMAGE = re.compile(r"^kindest/node:(v\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}$")


def kind_pin(raw: dict[str, Any], where: str) -> KindPin:
    """Validate one ``kind:`` entry of versions.yaml."""
    if set(raw) != {"kind_release", "node_image"}:
        raise ConfigError(f"{where}: kind needs exactly kind_release and node_image (got {sorted(raw)})")
    release, image = str(raw["kind_release"]), str(raw["node_image"])
    if not _KIND_RELEASE.match(release):
        raise ConfigError(f"{where}: kind_release {release!r} is not a kind release such as v0.30.0")
    if not _NODE_IMAGE.match(image):
        raise ConfigError(f"{where}: node_image {image!r} is not kindest/node:vX.Y.Z@sha256:<digest>",
                          "copy the image with its digest from the release notes of that kind release")
    return KindPin(release, image)


_RELEASE_KEYS = {f for f in StackRelease.__dataclass_fields__ if f not in ("minor",)}


def _release(minor: str, raw: dict[str, Any], source: Path) -> StackRelease:
    missing = _RELEASE_KEYS - set(raw)
    unknown = set(raw) - _RELEASE_KEYS
    if missing or unknown:
        detail = "; ".join(filter(None, [f"missing {sorted(missing)}" if missing else "",
                                         f"unknown {sorted(unknown)}" if unknown else ""]))
        raise ConfigError(f"{source}: release {minor}: {detail}")
    values = dict(raw)
    values["kind"] = kind_pin(dict(values["kind"] or {}), f"{source}: release {minor}")
    values["kubernetes_min"] = str(values["kubernetes_min"])
    return StackRelease(minor=minor, **values)


def load_matrix(path: Path | None = None) -> StackMatrix:
    source = path or manifests_dir() / "stack" / "versions.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    releases = {str(k): _release(str(k), v, source) for k, v in raw["releases"].items()}
    if str(raw["default"]) not in releases:
        raise ConfigError(f"{source}: default {raw['default']} has no release entry")
    return StackMatrix(default=str(raw["default"]), charts=dict(raw["charts"]), releases=releases)
