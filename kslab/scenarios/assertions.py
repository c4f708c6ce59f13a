"""`assert` steps: compare saved observations with expectations; each check becomes an assertion entry.

An entry is an :class:`~kslab.models.entries.Assertion` ({"name", "step", "expected", "observed", "tolerance",
"ok", "message"}), written as its dict into record.data["scenarios"][i]["assertions"]; a failed check fails the
step with the first failure's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kslab.errors import CheckFailed
from kslab.models.entries import Assertion
from kslab.scenarios.fieldpath import equal
from kslab.scenarios.template import TemplateError, walk


class AssertionsFailed(CheckFailed):
    """At least one assert check did not hold."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _judge(item: Mapping[str, Any], observed: Any) -> tuple[bool, Any, str]:
    """(ok, expected, how the expectation reads)."""
    if "equals" in item:
        return equal(observed, item["equals"]), item["equals"], f"== {item['equals']!r}"
    if "is_true" in item or "is_false" in item:
        wanted = bool(item["is_true"]) if "is_true" in item else not bool(item["is_false"])
        return observed is wanted, wanted, str(wanted).lower()
    number = _number(observed)
    if "at_least" in item:
        limit = float(item["at_least"])
        return number is not None and number >= limit, limit, f">= {limit:g}"
    if "at_most" in item:
        limit = float(item["at_most"])
        return number is not None and number <= limit, limit, f"<= {limit:g}"
    if "between" in item:
        low, high = (float(v) for v in item["between"])
        return number is not None and low <= number <= high, [low, high], f"in [{low:g}, {high:g}]"
    target, tolerance = float(item["approx"]), float(item.get("tolerance", 0.0))
    return number is not None and abs(number - target) <= tolerance, target, f"{target:g} ± {tolerance:g}"


def check(saved: Mapping[str, Any], item: Mapping[str, Any], step: str) -> Assertion:
    """One assertion entry (the value path is already rendered, e.g. saved.split.within_tolerance)."""
    path = str(item["value"])
    name = str(item.get("name") or path)
    try:
        observed = walk(saved, path.split(".")[1:], "saved")
    except TemplateError as exc:
        return Assertion(name, step, None, None, item.get("tolerance"), False, f"{name}: nothing observed ({exc})")
    ok, expected, reads = _judge(item, observed)
    shown = f"{observed:.4g}" if isinstance(observed, float) else repr(observed)
    message = f"{name}: expected {reads}, observed {shown}"
    if not ok and item.get("message"):
        message += f" ({item['message']})"
    return Assertion(name, step, expected, observed, item.get("tolerance"), ok, message)


def evaluate(saved: Mapping[str, Any], items: list[Mapping[str, Any]], step: str,
             sink: list[dict[str, Any]]) -> dict[str, Any]:
    """Run every check (all of them, even after a failure), append their entries (as dicts) to ``sink``; raise if
    any failed."""
    checks = [check(saved, item, step) for item in items]
    entries = [c.to_dict() for c in checks]
    sink.extend(entries)
    failed = [c for c in checks if not c.ok]
    if failed:
        more = f" (and {len(failed) - 1} more failed check{'s' if len(failed) > 2 else ''})" if len(failed) > 1 else ""
        raise AssertionsFailed(f"{failed[0].message}{more}", "the run record has expected vs observed for each check")
    return {"checks": entries, "passed": len(entries)}
