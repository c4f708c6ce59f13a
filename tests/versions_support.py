"""manifests/stack/versions.yaml as the file says it, read with PyYAML (not through kslab.stack.versions).

Tests that check what kslab does with its pins take the values from here instead of re-typing them, so editing
the file (as users may) changes what the tests expect. Tests whose point is an upstream fact keep literals and
name the upstream source beside them (tests/test_stack_versions.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

VERSIONS = Path(__file__).resolve().parents[1] / "manifests" / "stack" / "versions.yaml"


def versions_file() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(VERSIONS.read_text())
    return data


def pins(minor: str | None = None) -> dict[str, Any]:
    """One release's entry (the file's ``default`` release when ``minor`` is None)."""
    data = versions_file()
    return dict(data["releases"][minor or data["default"]])
