"""The process as kslab found it: environ, cwd, ttys and a clock, read once by the CLI and passed down.

A value type at the bottom of the package, so every layer (providers, local runtime, services) can take one
without importing the Session; ``kslab.session`` re-exports it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kslab.paths import state_dir


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


@dataclass(frozen=True)
class Environment:
    """The process as kslab found it (after httpie's Environment): read once, passed down, replaceable in tests."""

    environ: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = field(default_factory=Path)
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_process(cls) -> Environment:
        """This process: called by the CLI entry (kslab.cli.context), the one place that reads it."""
        return cls(environ=dict(os.environ), cwd=Path.cwd(), stdin_isatty=_isatty(sys.stdin),
                   stdout_isatty=_isatty(sys.stdout), stderr_isatty=_isatty(sys.stderr))

    @property
    def no_color(self) -> bool:
        """NO_COLOR set (https://no-color.org): no colours whatever the settings say."""
        return "NO_COLOR" in self.environ

    @property
    def state_dir(self) -> Path:
        """kslab's own state dir for this environment: $KSLAB_STATE_DIR, else $XDG_STATE_HOME/kslab."""
        return state_dir(self.environ)

    def record_facts(self) -> dict[str, Any]:
        """What a run record keeps about the environment it ran in."""
        return {"user": self.environ.get("USER", ""), "ci": bool(self.environ.get("CI"))}
