"""Text every renderer can show: control characters (which XML 1.0 cannot hold) written as \\xNN."""

from __future__ import annotations

import json
import re
from typing import Any

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(value: Any) -> str:
    """``value`` as text (JSON for anything but a string) with control characters made visible."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
