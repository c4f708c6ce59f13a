"""Knative-style condition bookkeeping (knative.dev/pkg ConditionSet semantics) over plain dicts.

A "living" condition set has one happy condition (``Ready``) and dependents; marking a dependent
False/Unknown drags ``Ready`` along with the same reason and message, and ``Ready`` turns True only
when every dependent is True. Non-dependent conditions get ``severity: Info`` as on a real cluster.
``lastTransitionTime`` changes only when status, reason or message change. Conditions stay sorted
by type, like Knative's.
"""

from __future__ import annotations

from typing import Any

from ..store import now_rfc3339

Obj = dict[str, Any]


def find(conditions: list[Obj] | None, ctype: str) -> Obj | None:
    for cond in conditions or []:
        if cond.get("type") == ctype:
            return cond
    return None


def status_of(obj: Obj, ctype: str) -> str | None:
    """'True' / 'False' / 'Unknown' of a condition on an object's status, or None."""
    cond = find((obj.get("status") or {}).get("conditions"), ctype)
    return cond.get("status") if cond else None


def is_true(obj: Obj, ctype: str) -> bool:
    return status_of(obj, ctype) == "True"


def put(conditions: list[Obj], ctype: str, status: str, reason: str = "", message: str = "",
        severity: str = "", extra: Obj | None = None) -> None:
    """Set one condition in place, keeping lastTransitionTime when nothing but timestamps would change."""
    new: Obj = {"type": ctype, "status": status}
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    if severity:
        new["severity"] = severity
    new.update(extra or {})
    old = find(conditions, ctype)
    if old is not None:
        same = {k: v for k, v in old.items() if k not in ("lastTransitionTime", "lastUpdateTime")} == new
        if same:
            return
        conditions.remove(old)
    new["lastTransitionTime"] = now_rfc3339()
    conditions.append(new)
    conditions.sort(key=lambda c: str(c.get("type")))


class ConditionSet:
    """A happy condition plus dependents, managing ``status['conditions']`` of one object."""

    def __init__(self, happy: str, *dependents: str) -> None:
        self.happy = happy
        self.dependents = dependents

    def _severity(self, ctype: str) -> str:
        return "" if ctype == self.happy or ctype in self.dependents else "Info"

    def _conds(self, status: Obj) -> list[Obj]:
        return status.setdefault("conditions", [])

    def initialize(self, status: Obj) -> None:
        conds = self._conds(status)
        if find(conds, self.happy) is None:
            put(conds, self.happy, "Unknown")
        happy = find(conds, self.happy) or {}
        for dep in self.dependents:
            if find(conds, dep) is None:
                put(conds, dep, "True" if happy.get("status") == "True" else "Unknown")

    def mark_true(self, status: Obj, ctype: str, reason: str = "", message: str = "") -> None:
        conds = self._conds(status)
        put(conds, ctype, "True", reason, message, self._severity(ctype))
        if all((find(conds, dep) or {}).get("status") == "True" for dep in self.dependents):
            put(conds, self.happy, "True")

    def mark_false(self, status: Obj, ctype: str, reason: str = "", message: str = "") -> None:
        conds = self._conds(status)
        put(conds, ctype, "False", reason, message, self._severity(ctype))
        if ctype in self.dependents:
            put(conds, self.happy, "False", reason, message)

    def mark_unknown(self, status: Obj, ctype: str, reason: str = "", message: str = "") -> None:
        conds = self._conds(status)
        put(conds, ctype, "Unknown", reason, message, self._severity(ctype))
        for dep in self.dependents:
            if (find(conds, dep) or {}).get("status") == "False":
                happy = find(conds, self.happy) or {}
                if happy.get("status") != "False":
                    put(conds, self.happy, "False", reason, message)
                return
        if ctype in self.dependents:
            put(conds, self.happy, "Unknown", reason, message)

    def mark(self, status: Obj, ctype: str, value: str, reason: str = "", message: str = "") -> None:
        """Dispatch on a 'True' / 'False' / 'Unknown' string."""
        if value == "True":
            self.mark_true(status, ctype, reason, message)
        elif value == "False":
            self.mark_false(status, ctype, reason, message)
        else:
            self.mark_unknown(status, ctype, reason, message)

    def copy_from(self, status: Obj, ctype: str, source: Obj | None) -> None:
        """Set ``ctype`` from another object's condition (no-op when that condition is missing)."""
        if source is None:
            return
        self.mark(status, ctype, str(source.get("status", "Unknown")), str(source.get("reason", "")),
                  str(source.get("message", "")))

    def is_happy(self, status: Obj) -> bool:
        return (find(status.get("conditions"), self.happy) or {}).get("status") == "True"
