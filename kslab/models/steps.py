"""A run-record step when there is a run record, a plain dict to write observations into when there is not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kslab.models.run_record import RunRecord


@contextmanager
def step(record: RunRecord | None, name: str, /, **inputs: Any) -> Iterator[dict[str, Any]]:
    if record is None:
        yield {}
        return
    with record.step(name, **inputs) as observations:
        yield observations
