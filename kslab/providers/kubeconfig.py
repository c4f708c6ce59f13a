"""Merging kslab's own kubeconfig into the user's, only when asked (`kslab up --merge-kubeconfig`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from kslab.util.atomic import write_text


def default_kubeconfig_path() -> Path:
    """Where kubectl writes: the first file of $KUBECONFIG, else ~/.kube/config."""
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), None)
    return Path(first).expanduser() if first else Path.home() / ".kube" / "config"


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [], "preferences": {}}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def merge_kubeconfig(source: Path, target: Path | None = None, make_current: bool = True) -> Path:
    """Copy source's clusters, users and contexts into target, replacing same-named entries."""
    target = target or default_kubeconfig_path()
    incoming, merged = _load(source), _load(target)
    for section in ("clusters", "users", "contexts"):
        names = {entry["name"] for entry in incoming.get(section) or []}
        kept = [entry for entry in merged.get(section) or [] if entry.get("name") not in names]
        merged[section] = kept + list(incoming.get(section) or [])
    if make_current and incoming.get("current-context"):
        merged["current-context"] = incoming["current-context"]
    write_text(target, yaml.safe_dump(merged, sort_keys=False), mode=0o600)
    return target
