"""Read one value out of a Kubernetes object with a small jsonpath-like path (no code, no wildcards).

    status.url
    status.components.predictor.traffic[latestRevision=true].percent   (first list item matching)
    status.conditions[type=Ready].status
    metadata.annotations["serving.kserve.io/deploymentMode"]            (keys with dots or slashes)
    spec.containers[0].image                                             (list index)
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r'\.?([A-Za-z0-9_-]+)|\["([^"]+)"\]|\[([A-Za-z0-9_.-]+)=([^\]]*)\]|\[(-?\d+)\]')
MISSING = object()


class PathError(ValueError):
    """The path is not well formed."""


def parse(path: str) -> list[tuple[str, Any]]:
    """('key', name) | ('match', (field, value)) | ('index', n) tokens; PathError when malformed."""
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None or match.end() == position:
            raise PathError(f"field path {path!r} is not understood at {path[position:]!r}")
        key, quoted, field, value, index = match.groups()
        if key is not None or quoted is not None:
            tokens.append(("key", key if key is not None else quoted))
        elif field is not None:
            tokens.append(("match", (field, value)))
        else:
            tokens.append(("index", int(index)))
        position = match.end()
    return tokens


def _same(actual: Any, wanted: str) -> bool:
    if isinstance(actual, bool):
        return str(actual).lower() == wanted.lower()
    return str(actual) == wanted


def get(obj: Any, path: str) -> Any:
    """The value at ``path`` or MISSING."""
    current = obj
    for kind, arg in parse(path):
        if kind == "key":
            current = current.get(arg, MISSING) if isinstance(current, dict) else MISSING
        elif kind == "index":
            current = current[arg] if isinstance(current, list) and -len(current) <= arg < len(current) else MISSING
        else:
            field, wanted = arg
            items = current if isinstance(current, list) else []
            current = next((i for i in items if isinstance(i, dict) and _same(i.get(field), wanted)), MISSING)
        if current is MISSING:
            return MISSING
    return current


def equal(actual: Any, expected: Any) -> bool:
    """Equality that forgives YAML typing: 10 == "10", True == "true"; ``None`` also matches a missing field."""
    if actual is MISSING:
        return expected is None
    if actual == expected:
        return True
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return str(actual) == str(expected)
