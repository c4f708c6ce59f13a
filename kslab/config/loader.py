"""Load Settings: defaults < kslab.yaml (cwd or --config) < KSLAB_* variables < command-line flags."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kslab.config.model import Settings, from_mapping
from kslab.errors import ConfigError

CONFIG_FILE = "kslab.yaml"
ENV_PREFIX = "KSLAB_"
# KSLAB_* variables that are not settings keys.
RESERVED_ENV = {"KSLAB_CONFIG", "KSLAB_STATE_DIR"}


def find_config_file(explicit: str | None, cwd: Path, env: Mapping[str, str]) -> Path | None:
    """The config file to read: --config, else $KSLAB_CONFIG, else ./kslab.yaml if present."""
    chosen = explicit or env.get("KSLAB_CONFIG")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {chosen} does not exist", "check the --config path")
        return path
    default = cwd / CONFIG_FILE
    return default if default.is_file() else None


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}", "fix the syntax or remove the file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """KSLAB_NAMESPACE=x -> {namespace: x}; KSLAB_KIND__WORKERS=1 -> {kind: {workers: 1}}."""
    out: dict[str, Any] = {}
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name in RESERVED_ENV:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        if not all(path):
            raise ConfigError(f"environment variable {name}: malformed name", "use KSLAB_KEY or KSLAB_SECTION__KEY")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(config_path: str | None = None, overrides: Mapping[str, Any] | None = None, *,
                  env: Mapping[str, str], cwd: Path) -> Settings:
    """Build validated Settings from every source; errors name the source and the key. ``env`` and ``cwd`` are
    the session's Environment (the CLI reads the process once, Environment.from_process)."""
    path = find_config_file(config_path, cwd, env)
    layers: list[tuple[str, dict[str, Any]]] = []
    if path is not None:
        layers.append((str(path), read_config_file(path)))
    layers.append(("environment", env_overrides(env)))
    layers.append(("command line", {k: v for k, v in (overrides or {}).items() if v is not None}))
    merged: dict[str, Any] = {}
    for source, layer in layers:
        try:
            from_mapping(Settings, layer)  # validate each layer alone so the error names its source
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc.message}", exc.hint) from None
        merged = deep_merge(merged, layer)
    return from_mapping(Settings, merged)
