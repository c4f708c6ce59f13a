"""Durations as people write them on the command line and in YAML: '90s', '2m', '500ms', '1h' or seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def duration_seconds(text: str, *, allow_zero: bool = False) -> float | None:
    """Seconds (> 0, or >= 0 with ``allow_zero``), or None when ``text`` is not such a duration."""
    match = _DURATION.match(text)
    if not match:
        return None
    value = float(match.group(1)) * _UNITS[match.group(2)]
    return value if value > 0 or (allow_zero and value == 0) else None
