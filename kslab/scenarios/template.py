"""The only templating scenario files get: `{param}` and `{saved.key.path}` substitution in strings.

No expressions, no attribute access, no calls: a reference is a name or a dotted path looked up in plain
dicts. A string that is exactly one reference keeps the referenced value's type (so `"{canary_percent}"`
stays the number 10); references inside a longer string are formatted with str(). `{{` and `}}` are
literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

REF = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_][A-Za-z0-9_.-]*)?)\}")
_MISSING = object()


class TemplateError(Exception):
    """A reference that names nothing, or a path that leads nowhere."""


def references(text: str) -> Iterator[str]:
    """Every `{ref}` in ``text`` (escaped braces skipped)."""
    for match in REF.finditer(text):
        if match.group(1):
            yield match.group(1)


def walk(value: Any, path: list[str], what: str) -> Any:
    """Follow ``path`` through dicts (keys) and lists (indexes); TemplateError names the first missing part."""
    current = value
    for depth, part in enumerate(path):
        found = _MISSING
        if isinstance(current, Mapping):
            found = current.get(part, _MISSING)
        elif isinstance(current, list | tuple) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(
                current):
            found = current[int(part)]
        if found is _MISSING:
            where = ".".join([what, *path[:depth]])
            known = ", ".join(sorted(map(str, current))[:12]) if isinstance(current, Mapping) else \
                (f"{len(current)} items" if isinstance(current, list | tuple) else type(current).__name__)
            raise TemplateError(f"{where} has no {part!r} (it has: {known or 'nothing'})")
        current = found
    return current


def lookup(ref: str, scope: Mapping[str, Any]) -> Any:
    """The value of ``name`` or ``saved.key.path`` in ``scope``."""
    head, *rest = ref.split(".")
    if head not in scope:
        raise TemplateError(f"{{{ref}}} names nothing: known names are {', '.join(sorted(scope))}")
    return walk(scope[head], rest, head)


def render_text(text: str, scope: Mapping[str, Any]) -> Any:
    """Substitute the references in one string."""
    whole = REF.fullmatch(text)
    if whole and whole.group(1):
        return lookup(whole.group(1), scope)

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "{{":
            return "{"
        if match.group(0) == "}}":
            return "}"
        return str(lookup(match.group(1), scope))

    return REF.sub(replace, text)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Render every string in a nested structure of dicts and lists (keys too)."""
    if isinstance(value, str):
        return render_text(value, scope)
    if isinstance(value, Mapping):
        return {(render_text(k, scope) if isinstance(k, str) else k): render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def all_references(value: Any) -> Iterator[str]:
    """Every reference anywhere in a nested structure."""
    if isinstance(value, str):
        yield from references(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                yield from references(key)
            yield from all_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_references(item)
