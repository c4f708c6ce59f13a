"""Run a service under a live progress view with a run record that is finished whatever happens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kslab.cli.context import CliContext

if TYPE_CHECKING:
    from kslab.config.model import Settings
    from kslab.models.run_record import RunRecord

Observer = Callable[[str, str, str], None]


def run_recorded(cli: CliContext, settings: Settings, command: str, title: str,
                 work: Callable[[RunRecord, Observer], Any], *, live: bool | None = None,
                 after: Callable[[RunRecord], None] | None = None) -> tuple[Any, RunRecord]:
    """Call ``work(record, observer)``; the record ends "ok", "failed" or "interrupted" (and is always written).

    ``live=False`` prints plain progress lines even on a terminal (CI logs); ``after(record)`` runs once the
    record is finished, whether ``work`` succeeded or not (e.g. to render the report of a failed run).
    """
    from kslab.cli.progress import ProgressView
    from kslab.models.run_record import RunRecord
    from kslab.util.redact import redact

    record = RunRecord(Path(settings.reports_dir), command, settings.to_dict())
    cli.err.print(f"run record: {record.path}", highlight=False, markup=False)
    try:
        try:
            with ProgressView(cli.err, title, live) as view:
                result = work(record, lambda component, phase, detail: view(component, phase, redact(detail)))
        except BaseException as exc:
            record.finish("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
            raise
        record.finish("ok")
    finally:
        if after is not None:
            after(record)
    return result, record
