"""A small strict parser for the Prometheus text exposition format (what KServe's /metrics serves).

Only what the observers need: samples (name, labels, value), ``# HELP`` / ``# TYPE`` lines skipped,
escaped label values decoded. A line that is not valid exposition text raises ValueError naming the
line, so a proxy error page is never mistaken for metrics.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
_SPECIAL = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def _unescape(text: str) -> str:
    return re.sub(r"\\[\\\"n]", lambda m: _ESCAPES[m.group(0)], text)


def _labels(line: str, pos: int, number: int) -> tuple[dict[str, str], int]:
    labels: dict[str, str] = {}
    if line[pos:pos + 1] != "{":
        return labels, pos
    pos += 1
    if line[pos:].lstrip().startswith("}"):
        return labels, line.index("}", pos) + 1
    while True:
        match = _LABEL.match(line, pos)
        if match is None:
            raise ValueError(f"line {number}: bad label set: {line!r}")
        labels[match.group(1)] = _unescape(match.group(2))
        pos = match.end()
        if match.group(3) == "}":
            return labels, pos
        if line[pos:].lstrip().startswith("}"):  # trailing comma
            return labels, line.index("}", pos) + 1


def _value(text: str, number: int, line: str) -> float:
    if text in _SPECIAL:
        return _SPECIAL[text]
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"line {number}: bad sample value {text!r}: {line!r}") from None


def parse(text: str) -> list[Sample]:
    """Every sample in ``text``; ValueError on the first malformed line."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _NAME.match(line)
        if match is None:
            raise ValueError(f"line {number}: not a metric sample: {line!r}")
        labels, pos = _labels(line, match.end(), number)
        rest = line[pos:].split()
        if not 1 <= len(rest) <= 2:
            raise ValueError(f"line {number}: expected a value (and an optional timestamp): {line!r}")
        out.append(Sample(match.group(0), labels, _value(rest[0], number, line)))
    return out


def value(samples: Iterable[Sample], name: str, **labels: str) -> float | None:
    """The sum of the samples called ``name`` whose labels include ``labels``; None when there is none."""
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    return sum(found) if found else None
