"""Write files so a crash never leaves half a file behind.

A write that fails (a full disk, a read-only directory) leaves the file as it was, so a run record keeps every
step written before, and raises WriteFailed naming the file and what to do instead of a bare OSError.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from kslab.errors import WriteFailed

_FULL = (errno.ENOSPC, errno.EDQUOT)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def write_text(path: Path, text: str, mode: int | None = None) -> None:
    try:
        _write(path, text, mode)
    except WriteFailed:
        raise
    except OSError as exc:
        raise write_failed(path, exc) from None


def _write(path: Path, text: str, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_failed(path: Path, exc: OSError) -> WriteFailed:
    """``exc`` (raised writing ``path``) as one line naming the file, with the fix for a full or read-only disk."""
    where = path.parent
    kept = f"{path.name} keeps what was written before" if path.exists() else f"{path.name} was not created"
    if exc.errno in _FULL:
        hint = (f"free space on the disk holding {where} (df -h {where}), or point reports_dir / KSLAB_STATE_DIR "
                f"at a disk with room; {kept}")
    elif exc.errno in _DENIED:
        hint = f"make {where} writable, or point reports_dir / KSLAB_STATE_DIR elsewhere; {kept}"
    else:
        hint = kept
    error = WriteFailed(f"cannot write {path}: {exc.strerror or exc}", hint)
    error.errno, error.strerror, error.filename = exc.errno, exc.strerror, str(path)
    return error


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
