"""Find, list and load run records under the reports directory (reports/<run-id>/run.json).

Runs are only ever read here: a run directory belongs to the run that created it, and rendering writes
derived files (report.md, junit.xml, report.html) beside run.json, never over it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kslab.errors import UsageError
from kslab.report.validate import record_problem

RECORD = "run.json"
SCHEMA_PREFIX = "kslab.run/"
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    dir: Path
    command: str
    result: str
    started_at: str
    finished_at: str | None
    steps: int

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "command": self.command, "result": self.result,
                "started_at": self.started_at, "finished_at": self.finished_at, "steps": self.steps,
                "dir": str(self.dir)}


def load_record(path: Path) -> dict[str, Any]:
    """The record in ``path`` (a run.json or its directory); UsageError when it is not a kslab run record."""
    file = path / RECORD if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{file} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith(SCHEMA_PREFIX):
        raise UsageError(f"{file} is not a kslab run record (no schema {SCHEMA_PREFIX}v1)")
    problem = record_problem(data)
    if problem is not None:
        raise UsageError(f"{file} is not a valid run record: {problem}",
                         "the file was changed after kslab wrote it; restore it or move the run directory away")
    return data


def _info(directory: Path, skipped: list[tuple[Path, str]] | None) -> RunInfo | None:
    try:
        data = load_record(directory)
    except UsageError as exc:
        if skipped is not None:
            skipped.append((directory, exc.message))
        return None
    return RunInfo(run_id=str(data.get("run_id") or directory.name), dir=directory,
                   command=str(data.get("command", "")), result=str(data.get("result", "")),
                   started_at=str(data.get("started_at") or ""), finished_at=data.get("finished_at"),
                   steps=len(data.get("steps") or []))


def list_runs(reports_dir: Path, skipped: list[tuple[Path, str]] | None = None) -> list[RunInfo]:
    """Every valid run under ``reports_dir``, newest first (by start time, then id); a record that is unreadable
    or not valid is left out (and added to ``skipped`` as (directory, why))."""
    if not reports_dir.is_dir():
        return []
    runs = [info for child in reports_dir.iterdir()
            if child.is_dir() and (child / RECORD).is_file() and (info := _info(child, skipped)) is not None]
    return sorted(runs, key=lambda r: (r.started_at, r.dir.name), reverse=True)


def resolve_run(reports_dir: Path, run: str | None) -> Path:
    """The directory of ``run``: None or "latest" (the newest run), a run id, a unique id prefix, or a path."""
    if run is None or run == "latest":
        skipped: list[tuple[Path, str]] = []
        runs = list_runs(reports_dir, skipped)
        if not runs and skipped:  # nothing valid to fall back to: say what is wrong with the newest record
            newest = max(skipped, key=lambda s: s[0].name)
            raise UsageError(newest[1], "the file was changed after kslab wrote it; restore it or move the run "
                                        "directory away (kslab report --list names every record it skips)")
        if not runs:
            raise UsageError(f"no runs in {reports_dir}", "run a kslab command first, e.g. kslab lab --provider local")
        return runs[0].dir
    candidate = Path(run).expanduser()
    if ("/" in run or run.endswith(RECORD)) and candidate.exists():
        directory = candidate.parent if candidate.is_file() else candidate
        if (directory / RECORD).is_file():
            return directory
        raise UsageError(f"{run} holds no {RECORD}")
    if not _RUN_ID.match(run):
        raise UsageError(f"{run!r} is not a run id", "list the runs with: kslab report --list")
    exact = reports_dir / run
    if (exact / RECORD).is_file():
        return exact
    matches = [r.dir for r in list_runs(reports_dir) if r.dir.name.startswith(run)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"run id {run!r} is ambiguous: {', '.join(m.name for m in matches[:5])}",
                         "give more of the id")
    raise UsageError(f"no run {run!r} in {reports_dir}", "list the runs with: kslab report --list")
