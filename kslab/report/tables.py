"""A report table as the measurement and gate tables produce it and every renderer draws it: (title, headers, rows)."""

from __future__ import annotations

from typing import Any

Table = tuple[str, list[str], list[list[Any]]]
