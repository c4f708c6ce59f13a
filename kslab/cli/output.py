"""Render command results as a table (for people) or JSON/YAML (for scripts)."""

from __future__ import annotations

import json
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
