"""Where kslab finds its editable data (manifests/, scenarios/) and keeps its own state."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """``manifests`` or ``scenarios``: the copy in a source checkout, else the one inside the wheel."""
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name  # a source checkout (editable install)


def manifests_dir() -> Path:
    return data_dir("manifests")


def scenarios_dir() -> Path:
    return data_dir("scenarios")


def state_dir() -> Path:
    """kslab's own state (clusters it created, kubeconfigs): $KSLAB_STATE_DIR or XDG state home."""
    explicit = os.environ.get("KSLAB_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kslab"
