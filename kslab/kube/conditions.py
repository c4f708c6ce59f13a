"""Reading status conditions the way kubectl wait does (observedGeneration included)."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def conditions(obj: Obj | None) -> list[Obj]:
    return list(((obj or {}).get("status") or {}).get("conditions") or [])


def condition(obj: Obj | None, kind: str) -> Obj | None:
    for cond in conditions(obj):
        if str(cond.get("type", "")).lower() == kind.lower():
            return cond
    return None


def is_current(obj: Obj | None, cond: Obj | None = None) -> bool:
    """The status describes the latest spec: neither observedGeneration is behind metadata.generation."""
    if obj is None:
        return False
    generation = (obj.get("metadata") or {}).get("generation")
    if generation is None:
        return True
    observed = [(obj.get("status") or {}).get("observedGeneration")]
    if cond is not None:
        observed.append(cond.get("observedGeneration"))
    return all(o is None or int(o) >= int(generation) for o in observed)


def condition_is(obj: Obj | None, kind: str, status: str = "True") -> bool:
    """``kubectl wait --for=condition=<kind>=<status>`` semantics."""
    cond = condition(obj, kind)
    return cond is not None and str(cond.get("status", "")).lower() == status.lower() and is_current(obj, cond)


def summarize(obj: Obj | None) -> str:
    """'Ready=False (RevisionMissing: ...), PredictorReady=True' for error messages."""
    parts = []
    for cond in conditions(obj):
        text = f"{cond.get('type')}={cond.get('status')}"
        detail = ": ".join(str(cond[k]) for k in ("reason", "message") if cond.get(k))
        parts.append(f"{text} ({detail})" if detail else text)
    return ", ".join(parts) if parts else "no conditions reported"
