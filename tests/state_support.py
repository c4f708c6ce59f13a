"""kslab's state dir as the CLI finds it, for tests that set $KSLAB_STATE_DIR and then look inside."""

from __future__ import annotations

from pathlib import Path

from kslab.session import Environment


def cli_state_dir() -> Path:
    """What a command run now would use (Environment.from_process, as the CLI reads it)."""
    return Environment.from_process().state_dir
