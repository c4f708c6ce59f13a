"""The images kslab puts on kind/minikube nodes itself (manifests/images.yaml), as typed objects.

``kslab_images`` are built from this checkout and tagged with kslab's version; ``runtime_images`` are public
images of the chosen KServe release, preloaded so the first deploy does not wait for the node to pull them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kslab import __version__
from kslab.errors import ConfigError
from kslab.paths import manifests_dir

IMAGES_FILE = "images.yaml"


@dataclass(frozen=True)
class KslabImage:
    """One image kslab builds: ``tag`` is ``image:<kslab version>``; paths are relative to ``root``."""

    name: str
    image: str
    dockerfile: str
    context: str
    config_key: str
    root: Path

    @property
    def tag(self) -> str:
        return f"{self.image}:{__version__}"

    @property
    def dockerfile_path(self) -> Path:
        return self.root / self.dockerfile

    @property
    def context_path(self) -> Path:
        return self.root / self.context


@dataclass(frozen=True)
class ImageCatalog:
    kslab_images: tuple[KslabImage, ...]
    runtime_templates: tuple[str, ...]

    def kslab_image(self, name: str) -> KslabImage:
        for image in self.kslab_images:
            if image.name == name:
                return image
        raise ConfigError(f"{IMAGES_FILE}: no kslab image named {name!r}",
                          f"add it under kslab_images in manifests/{IMAGES_FILE}")

    def runtime_images(self, kserve: str) -> list[str]:
        """The runtime images for KServe ``kserve`` (e.g. v0.20.0)."""
        tag = kserve if kserve.startswith("v") else f"v{kserve}"
        return [template.replace("{kserve}", tag) for template in self.runtime_templates]


def _str(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value


def load_images(path: Path | None = None, root: Path | None = None) -> ImageCatalog:
    """Read manifests/images.yaml; ``root`` (default: the checkout holding manifests/) anchors build paths."""
    source = path or manifests_dir() / IMAGES_FILE
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    base = root or manifests_dir().parent
    images = []
    for index, raw in enumerate(data.get("kslab_images") or []):
        where = f"{source.name}: kslab_images[{index}]"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where} must be a mapping")
        images.append(KslabImage(_str(raw, "name", where), _str(raw, "image", where), _str(raw, "dockerfile", where),
                                 str(raw.get("context") or "."), str(raw.get("config_key") or ""), base))
    runtime = data.get("runtime_images") or []
    if not isinstance(runtime, list) or not all(isinstance(r, str) and r for r in runtime):
        raise ConfigError(f"{source.name}: runtime_images must be a list of image references")
    return ImageCatalog(tuple(images), tuple(runtime))
