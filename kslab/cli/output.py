"""Render command results as a table (for people) or JSON/YAML (for scripts)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from kslab.cli.context import CliContext


def emit(cli: CliContext, data: Mapping[str, Any] | Sequence[Mapping[str, Any]], output: str | None = None,
         title: str | None = None) -> None:
    """Write ``data`` to stdout in the chosen format (``output`` overrides the global --output)."""
    fmt = output or cli.settings.output
    if fmt == "json":
        print(json.dumps(data, indent=2, sort_keys=False, default=str))
        return
    if fmt == "yaml":
        import yaml

        print(yaml.safe_dump(json.loads(json.dumps(data, default=str)), sort_keys=False), end="")
        return
    from rich.table import Table

    rows = [data] if isinstance(data, Mapping) else list(data)
    if isinstance(data, Mapping):
        table = Table(title=title, show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold", min_width=_whole_width(None, [_cell(v) for v in data.values()]))
        for key, value in data.items():
            table.add_row(str(key).upper().replace("_", " "), _cell(value))
    else:
        columns = list(rows[0]) if rows else []
        table = Table(title=title, box=None, pad_edge=False)
        for column in columns:
            width = _whole_width(column, [_cell(row.get(column)) for row in rows])
            table.add_column(column.upper().replace("_", " "), overflow="fold", min_width=width)
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
    cli.out.print(table)


DETAIL_LINES = 4  # a check's detail longer than this in its column (or with a word too long for it) goes below


def emit_checks(cli: CliContext, rows: Sequence[Mapping[str, Any]], output: str | None, *, title: str, name: str,
                notes: Sequence[str] = ("fix",)) -> None:
    """Check results: JSON/YAML as ``emit``; for people a table of ``name`` / RESULT / DETAIL that fits the
    terminal (80 columns in a CI log), then each row's ``notes`` (a fix, evidence) as whole lines under it, so a
    URL or a command to copy is never cut or folded. RESULT is ok, FAIL, or warn (``severity`` warning)."""
    if (output or cli.settings.output) != "table":
        emit(cli, rows, output, title)
        return
    from rich.table import Table

    header = name.upper().replace("_", " ")
    table = Table(title=title, box=None, pad_edge=False)
    table.add_column(header, no_wrap=True)
    table.add_column("RESULT", no_wrap=True)
    table.add_column("DETAIL", overflow="fold")
    names = [_cell(row.get(name)) for row in rows]
    room = max(cli.out.width - max(map(len, [header, *names])) - len("RESULT") - 4, 20)  # DETAIL's width
    below: list[str] = []
    for row in rows:
        result = "ok" if row.get("ok") else "warn" if row.get("severity") == "warning" else "FAIL"
        detail = _cell(row.get("detail"))
        if len(detail) > DETAIL_LINES * room or any(len(token) > room for token in detail.split()):
            below.append(f"detail ({row.get(name)}): {detail}")  # whole, under the table
            detail = textwrap.shorten(detail, room + room // 2, placeholder=" … (see below)")
        table.add_row(_cell(row.get(name)), result, detail)
        for note in notes:
            value = row.get(note)
            if not value:
                continue
            items = value if isinstance(value, list | tuple) else [value]
            below += [f"{note} ({row.get(name)}): {items[0]}"] if len(items) == 1 else \
                [f"{note} ({row.get(name)}):", *(f"  {item}" for item in items)]
    cli.out.print(table)
    if below:
        cli.out.print()
    for line in below:  # soft_wrap: the terminal wraps a long line itself, nothing is cut or folded
        cli.out.print(line, soft_wrap=True, highlight=False, markup=False)


# Never cut in a table (a narrow terminal or an 80-column CI log): what people copy into the next command.
WHOLE_COLUMNS = ("run_id", "run", "url", "run_record", "file")


def _whole_width(column: str | None, cells: list[str]) -> int | None:
    """The width a column needs so its identifiers and URLs are shown whole (other text may wrap)."""
    tokens = [token for cell in cells for token in cell.split()
              if column in WHOLE_COLUMNS or "://" in token]
    return max((len(token) for token in tokens), default=0) or None


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
