"""Is a run.json a kslab.run/v1 record? Checked on read, so one bad record is refused alone instead of breaking
every report and `report --list`.

The header (run id, command, times, result, settings, ...) is checked against the top level of the run schema
(manifests/schema/run-v1.schema.json: type, const, enum, pattern, minLength, required, $ref and anyOf, the
keywords it uses there); steps and scenarios are read by the typed entries (kslab.report.record), which name
the field that is wrong. The answer is one line: ``steps: expected a list, got int 5``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from kslab.models.entries import EntryError
from kslab.paths import manifests_dir

TYPED = ("steps", "scenarios")  # read by the typed entries, which name the wrong field by its path
_TYPES: dict[str, Any] = {"string": str, "object": Mapping, "array": list, "boolean": bool, "null": type(None),
                          "integer": int, "number": int | float}


@cache
def run_schema() -> dict[str, Any]:
    return json.loads((manifests_dir() / "schema" / "run-v1.schema.json").read_text(encoding="utf-8"))


def record_problem(record: Any) -> str | None:
    """Why ``record`` is not a valid kslab.run/v1 record (one line naming the field), or None."""
    if not isinstance(record, Mapping):
        return f"expected an object, got {type(record).__name__}"
    schema = run_schema()
    for key in schema.get("required", ()):
        if key not in record:
            return f"{key}: missing"
    for key, rule in schema.get("properties", {}).items():
        if key in record and key not in TYPED and (problem := _problem(record[key], rule, schema)) is not None:
            return f"{key}: {problem}"
    from kslab.report.record import read_run

    try:
        read_run({k: v for k, v in record.items() if k != "run_id"})  # the field alone, without "run <id>: "
    except EntryError as exc:
        return exc.message.removeprefix("run None: ")
    return None


def _problem(value: Any, rule: Mapping[str, Any], schema: Mapping[str, Any]) -> str | None:
    if "$ref" in rule:
        rule = schema["$defs"][rule["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in rule:
        problems = [_problem(value, option, schema) for option in rule["anyOf"]]
        return None if None in problems else " or ".join(p for p in problems if p)
    if "const" in rule and value != rule["const"]:
        return f"expected {rule['const']!r}, got {_shown(value)}"
    if "enum" in rule and value not in rule["enum"]:
        return f"expected one of {', '.join(map(str, rule['enum']))}, got {_shown(value)}"
    kind = rule.get("type")
    if kind is not None and not _is(value, kind):
        return f"expected {kind}, got {_shown(value)}"
    if isinstance(value, str):
        if "pattern" in rule and not re.search(rule["pattern"], value):
            return f"{_shown(value)} does not match {rule['pattern']}"
        if len(value) < rule.get("minLength", 0):
            return "empty"
    if isinstance(value, Mapping):
        for key in rule.get("required", ()):
            if key not in value:
                return f"{key}: missing"
        for key, inner in rule.get("properties", {}).items():
            if key in value and (problem := _problem(value[key], inner, schema)) is not None:
                return f"{key}: {problem}"
    return None


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:39] + '…'}"
