"""The stack's components, read from manifests/stack/components.yaml for one release and mode.

Only data here: which charts and manifests a component applies, what it needs first, and what
"ready" means. Installing and waiting live in kslab/stack/installer.py and readiness.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kslab.errors import ConfigError
from kslab.models.stack import StackMatrix, StackRelease
from kslab.paths import manifests_dir
from kslab.stack.helm import Chart

_PLACEHOLDER = re.compile(r"\{([a-z_.]+)\}")


@dataclass(frozen=True)
class ReadyCheck:
    """One readiness condition: kind is pods | endpoints | deployment | exists | condition."""

    kind: str
    namespace: str | None
    target: str  # label selector for pods, else an object name
    resource: str | None = None  # plural, for exists/condition
    condition: str | None = None

    def describe(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        if self.kind == "pods":
            return f"pods {self.target}{where} Ready"
        if self.kind == "endpoints":
            return f"Service {self.target}{where} has ready endpoints"
        if self.kind == "deployment":
            return f"Deployment {self.target}{where} Available"
        if self.kind == "condition":
            return f"{self.resource}/{self.target}{where} {self.condition}"
        return f"{self.resource}/{self.target}{where} exists"


@dataclass(frozen=True)
class Component:
    name: str
    needs: tuple[str, ...]
    charts: tuple[Chart, ...] = ()
    manifests: tuple[str, ...] = ()
    ready: tuple[ReadyCheck, ...] = ()
    version_from: dict[str, str] = field(default_factory=dict)
    retry_seconds: dict[str, int] = field(default_factory=dict)  # release -> seconds to retry install


def _applies(when: dict[str, Any] | None, release: StackRelease, mode: str) -> bool:
    if not when:
        return True
    minor = tuple(int(p) for p in release.minor.split("."))
    for key, value in when.items():
        if key == "mode" and value != mode:
            return False
        if key == "min_kserve" and minor < tuple(int(p) for p in str(value).split(".")):
            return False
        if key == "max_kserve" and minor > tuple(int(p) for p in str(value).split(".")):
            return False
        if key not in ("mode", "min_kserve", "max_kserve"):
            raise ConfigError(f"components.yaml: unknown 'when' key {key!r}")
    return True


def placeholders(matrix: StackMatrix, release: StackRelease, mode: str) -> dict[str, str]:
    values = {k: str(v) for k, v in vars(release).items() if isinstance(v, str)}
    values["kserve_bare"] = release.kserve.lstrip("v")
    values["deployment_mode"] = release.deployment_mode(mode)
    for key, value in matrix.charts.items():
        values[f"charts.{key}"] = fill(value, values)
    return values


def fill(text: str, values: dict[str, str], source: str = "components.yaml") -> str:
    """Replace each {placeholder} in ``text``; an unknown one is a ConfigError naming ``source``."""
    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise ConfigError(f"{source}: unknown placeholder {{{match.group(1)}}}")
        return values[match.group(1)]
    return _PLACEHOLDER.sub(replace, text)


def _chart(raw: dict[str, Any], values: dict[str, str], release: StackRelease, mode: str) -> Chart:
    settings = [item for item in raw.get("set") or [] if _applies(item.get("when"), release, mode)]
    repo = raw.get("repo")
    return Chart(
        release=fill(raw["release"], values),
        chart=fill(raw["chart"], values),
        namespace=fill(raw["namespace"], values),
        version=fill(raw["version"], values) if raw.get("version") else None,
        values=tuple((s["key"], fill(str(s["value"]), values)) for s in settings if not s.get("string")),
        string_values=tuple((s["key"], fill(str(s["value"]), values)) for s in settings if s.get("string")),
        repo=(repo[0], fill(repo[1], values)) if repo else None,
        wait=bool(raw.get("wait", True)),
    )


def _check(raw: dict[str, Any], values: dict[str, str]) -> ReadyCheck:
    namespace = fill(raw["namespace"], values) if raw.get("namespace") else None
    for kind in ("pods", "endpoints", "deployment"):
        if kind in raw:
            return ReadyCheck(kind, namespace, fill(raw[kind], values))
    if "condition" in raw:
        return ReadyCheck("condition", namespace, raw["name"], raw["resource"], raw["condition"])
    if "exists" in raw:
        return ReadyCheck("exists", namespace, raw["name"], raw["exists"])
    raise ConfigError(f"components.yaml: unknown ready check {raw}")


def load_components(matrix: StackMatrix, release: StackRelease, mode: str, path: Path | None = None
                    ) -> list[Component]:
    """The components that apply to this release and mode, in file order, placeholders filled."""
    source = path or manifests_dir() / "stack" / "components.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))["components"]
    values = placeholders(matrix, release, mode)
    chosen = {name: spec for name, spec in raw.items() if _applies(spec.get("when"), release, mode)}
    components = []
    for name, spec in chosen.items():
        charts = [c for c in spec.get("charts") or [] if _applies(c.get("when"), release, mode)]
        components.append(Component(
            name=name,
            needs=tuple(n for n in spec.get("needs") or [] if n in chosen),
            charts=tuple(_chart(c, values, release, mode) for c in charts),
            manifests=tuple(spec.get("manifests") or []),
            ready=tuple(_check(r, values) for r in spec.get("ready") or [] if _applies(r.get("when"), release, mode)),
            version_from={k: fill(str(v), values) for k, v in (spec.get("version_from") or {}).items()},
            retry_seconds={fill(c["release"], values): int(c["retry_seconds"]) for c in charts
                           if c.get("retry_seconds")},
        ))
    return components
