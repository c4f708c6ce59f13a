"""An OSError no service turned into a KslabError, told as what the user can fix: kslab's state directory
($KSLAB_STATE_DIR) or the reports directory (./reports, $KSLAB_REPORTS_DIR) is not a writable directory."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from pathlib import Path


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def _problem(exc: OSError) -> str:
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "a file is in the way (kslab needs a directory there)"
    if isinstance(exc, PermissionError):
        return "not writable"
    return exc.strerror or type(exc).__name__


def describe(exc: OSError, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> tuple[str, str]:
    """(message, hint) naming the directory, the cause and the fix."""
    from kslab.paths import state_dir

    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    filename = Path(os.fsdecode(exc.filename)) if exc.filename else None
    where = cwd / filename if filename is not None and not filename.is_absolute() else filename
    state = state_dir(environ)
    reports = Path(environ.get("KSLAB_REPORTS_DIR") or "reports")
    reports = reports if reports.is_absolute() else cwd / reports
    if where is not None and (_under(where, state) or _under(state, where)):
        source = "$KSLAB_STATE_DIR" if environ.get("KSLAB_STATE_DIR") else "the default"
        return (f"kslab's state directory {state} ({source}) cannot be used: {where}: {_problem(exc)}",
                "point KSLAB_STATE_DIR at a writable directory (or unset it for ~/.local/state/kslab)")
    if where is not None and (_under(where, reports) or _under(reports, where)):
        return (f"the reports directory {reports} cannot be used: {where}: {_problem(exc)}",
                "run kslab from a writable directory, or set KSLAB_REPORTS_DIR to one")
    if exc.errno == errno.ENOSPC:
        disk = where.parent if where is not None else cwd
        return (f"{where or 'a file'}: {_problem(exc)}",
                f"free space on the disk holding {disk} (df -h {disk}), or point KSLAB_STATE_DIR / "
                "KSLAB_REPORTS_DIR at a disk with room")
    return (f"{where or 'a file'}: {_problem(exc)}",
            "check that the path exists and is writable; KSLAB_STATE_DIR and KSLAB_REPORTS_DIR move kslab's files")
