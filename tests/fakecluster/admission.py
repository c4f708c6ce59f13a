"""The order in which the store runs its admission hooks, as a kube-apiserver does for one write.

A write to a custom resource goes: decode (the CRD's structural schema prunes unknown fields) ->
mutating admission (webhooks that default) -> validation of the object against the schema (422
Invalid) -> validating admission (webhooks that deny, 403). A hook says where it belongs with
:func:`phase`; a hook without a phase counts as mutating, which keeps the hooks tests append
(functions that mutate or raise) where they always ran. Hooks of one phase run in list order.
Order per kubernetes/kubernetes@v1.34.0: staging/src/k8s.io/apiserver/pkg/endpoints/handlers/create.go
(decode, then mutating admission) and staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go
(``BeforeCreate``/``BeforeUpdate`` run the strategy's validation, then the validating admission runs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .resources import ResourceType

Obj = dict[str, Any]
# An admission hook sees (operation, type, new object, old object or None) and returns the object to
# store (possibly mutated) or raises ApiError.
Admission = Callable[[str, "ResourceType", Obj, "Obj | None"], Obj]
PHASES = ("decode", "mutating", "schema", "validating")
_ORDER = {name: index for index, name in enumerate(PHASES)}
Hook = TypeVar("Hook", bound=Callable[..., Any])


def phase(name: str) -> Callable[[Hook], Hook]:
    """Decorator: run this hook (a function or a method) in phase ``name`` (one of PHASES)."""
    if name not in _ORDER:
        raise ValueError(f"unknown admission phase {name!r}")

    def mark(hook: Hook) -> Hook:
        hook.admission_phase = name  # type: ignore[attr-defined]
        return hook
    return mark


def phase_of(hook: Admission) -> str:
    return str(getattr(hook, "admission_phase", "mutating"))


def run(hooks: Iterable[Admission], op: str, rt: ResourceType, obj: Obj, old: Obj | None) -> Obj:
    """Pass ``obj`` through every hook, phase by phase; each returns the object the next one sees."""
    for hook in sorted(hooks, key=lambda h: _ORDER[phase_of(h)]):
        obj = hook(op, rt, obj, old)
    return obj
