"""`requires:` of a scenario against the settings (provider, mode, KServe version), and the built-in names
every template can use."""

from __future__ import annotations

import operator
import re
from typing import Any

from kslab.config.model import Settings
from kslab.scenarios.schema import Requires

_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}
_SPEC = re.compile(r"^\s*(>=|<=|==|>|<)\s*(\d+(?:\.\d+){0,2})\s*$")
NEEDS_CLUSTER = "skipped: needs a cluster provider (provider local has no Kubernetes)"


def version_tuple(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def version_matches(version: str, spec: str) -> bool:
    """'0.20.0' against '>=0.13,<0.20' (every comma-separated condition must hold)."""
    for part in spec.split(","):
        match = _SPEC.match(part)
        if match is None:
            return False
        if not _OPS[match.group(1)](version_tuple(version), version_tuple(match.group(2))):
            return False
    return True


def unmet(requires: Requires, settings: Settings, has_cluster: bool) -> str | None:
    """Why the scenario cannot run with these settings on a provider with(out) a cluster (the skip reason),
    or None."""
    why = f" ({requires.because})" if requires.because else ""
    if requires.cluster and not has_cluster:
        return NEEDS_CLUSTER
    if requires.mode and settings.mode != requires.mode:
        return f"unsupported: needs mode {requires.mode}, this lab runs mode {settings.mode}{why}"
    if requires.kserve and not version_matches(settings.kserve_version, requires.kserve):
        return f"unsupported: needs KServe {requires.kserve}, this lab runs {settings.kserve_version}{why}"
    return None


def template_scope(settings: Settings) -> dict[str, Any]:
    """The built-in template names (schema.BUILTIN_NAMES)."""
    rewrites = version_tuple(settings.kserve_version) >= (0, 17, 0)
    return {"namespace": settings.namespace, "mode": settings.mode, "kserve_version": settings.kserve_version,
            "provider": settings.provider, "standard_annotation": "Standard" if rewrites else "RawDeployment",
            "explainer_image": explainer_image()}


def explainer_image() -> str:
    """The tag of kslab's explainer image, as manifests/images.yaml names it (and kslab up builds and loads it)."""
    from kslab.stack.images import load_images

    return load_images().kslab_image("explainer").tag
