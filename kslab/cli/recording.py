"""Run a service under a live progress view inside the session's run record (kslab.session.Session.recorded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kslab.cli.context import CliContext

if TYPE_CHECKING:
    from kslab.models.run_record import RunRecord
    from kslab.session import Session

Observer = Callable[[str, str, str], None]


def announce(cli: CliContext, record: RunRecord) -> None:
    """Say where the run record is, before anything else happens."""
    cli.err.print(f"run record: {record.path}", highlight=False, markup=False)


def run_recorded(cli: CliContext, session: Session, command: str, title: str,
                 work: Callable[[RunRecord, Observer], Any], *, live: bool | None = None,
                 after: Callable[[RunRecord], None] | None = None) -> tuple[Any, RunRecord]:
    """Call ``work(record, observer)``; the record ends "ok", "failed" or "interrupted" (and is always written).

    ``live=False`` prints plain progress lines even on a terminal (CI logs); ``after(record)`` runs once the
    record is finished, whether ``work`` succeeded or not (e.g. to render the report of a failed run).
    """
    from kslab.cli.progress import ProgressView
    from kslab.util.redact import redact

    try:
        with session.recorded(command, on_start=lambda record: announce(cli, record)) as record, \
                ProgressView(cli.err, title, live) as view:
            result = work(record, lambda component, phase, detail: view(component, phase, redact(detail)))
    finally:
        if after is not None and session.record is not None:
            after(session.record)
    return result, record
