"""Merging kslab's own kubeconfig into the user's, only when asked (`kslab up --merge-kubeconfig`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kslab.util.atomic import write_text


def default_kubeconfig_path(environ: Mapping[str, str]) -> Path:
    """Where kubectl writes in ``environ`` (the session's Environment.environ): the first file of $KUBECONFIG,
    else ~/.kube/config."""
    env = environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), None)
    if first:
        return Path(first).expanduser()
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    return home / ".kube" / "config"


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [], "preferences": {}}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def merge_kubeconfig(source: Path, target: Path, make_current: bool = True) -> Path:
    """Copy source's clusters, users and contexts into target (default_kubeconfig_path), replacing same-named
    entries."""
    incoming, merged = _load(source), _load(target)
    for section in ("clusters", "users", "contexts"):
        names = {entry["name"] for entry in incoming.get(section) or []}
        kept = [entry for entry in merged.get(section) or [] if entry.get("name") not in names]
        merged[section] = kept + list(incoming.get(section) or [])
    if make_current and incoming.get("current-context"):
        merged["current-context"] = incoming["current-context"]
    write_text(target, yaml.safe_dump(merged, sort_keys=False), mode=0o600)
    return target
