"""A run-record step (kslab/models/run_record.py ``RunRecord.step``) and a smoke check (built by
kslab/inference/smoke.py), the observations of a ``smoke: <check>`` step (run schema: ``$defs/step``,
``$defs/smokeCheck``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kslab.models.entries.codec import Entry

SMOKE_PREFIX = "smoke: "
LOAD_STEP = "load"
MEASURED = ("ok", "interrupted")  # a load step with one of these results holds a load result (the run schema's rule)
CHECKED = ("ok", "failed")  # a smoke step with one of these results holds its check


@dataclass(frozen=True)
class SmokeCheck(Entry):
    """One known-answer check: expected against actual, with the call's latency and HTTP status."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"name", "ok"})
    name: str
    ok: bool
    expected: Any = None
    actual: Any = None
    latency_ms: float | None = None
    status_code: int | None = None


@dataclass(frozen=True)
class Step(Entry):
    """One step of a command; ``error`` only when it failed, ``observations`` whatever the step measured."""

    REQUIRED: ClassVar[frozenset[str]] = frozenset({"name"})
    OMIT_IF_NONE: ClassVar[frozenset[str]] = frozenset({"error"})
    name: str
    inputs: Mapping[str, Any] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    result: str | None = None
    observations: Mapping[str, Any] | None = None
    error: str | None = None

    @property
    def is_smoke(self) -> bool:
        return self.name.startswith(SMOKE_PREFIX)

    @property
    def holds_load_result(self) -> bool:
        return self.name == LOAD_STEP and self.result in MEASURED

    @property
    def holds_smoke_check(self) -> bool:
        return self.is_smoke and self.result in CHECKED and bool(self.observations)
