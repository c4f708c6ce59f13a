"""Where kslab finds its editable data (manifests/, scenarios/) and keeps its own state."""

from __future__ import annotations

from collections.abc import Mapping
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


def state_dir(environ: Mapping[str, str]) -> Path:
    """kslab's own state (clusters it created, kubeconfigs, local runtimes, model builds) for ``environ`` (the
    session's Environment.environ): $KSLAB_STATE_DIR, else $XDG_STATE_HOME/kslab, else ~/.local/state/kslab."""
    explicit = environ.get("KSLAB_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    base = environ.get("XDG_STATE_HOME") or str(home / ".local" / "state")
    return Path(base) / "kslab"
