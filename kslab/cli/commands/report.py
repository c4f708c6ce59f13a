"""kslab report: render a run (Markdown, JUnit XML, HTML with plots), list runs, compare with a baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kslab.cli.context import CliContext, current
from kslab.cli.options import OutputOption
from kslab.cli.output import emit
from kslab.errors import CheckFailed


def report(
    ctx: typer.Context,
    run: Annotated[str | None, typer.Argument(help="Run id, a unique prefix of one, 'latest' or a run directory "
                                              "(default: the latest run).", show_default=False)] = None,
    formats: Annotated[str | None, typer.Option("--format", help="md, junit, html as a comma list, or all "
                                                "(default).", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the reports here instead of beside run.json.",
                                             show_default=False)] = None,
    list_runs: Annotated[bool, typer.Option("--list", help="List the runs, newest first, and exit.")] = False,
    compare: Annotated[str | None, typer.Option("--compare", help="Baseline run to compare with: exit 1 when a "
                                                "threshold in kslab.yaml (report.thresholds) is crossed.",
                                                show_default=False)] = None,
    output: OutputOption = None,
) -> None:
    """Render a run as Markdown, JUnit XML and a self-contained HTML page with plots.

    Reads reports/<run-id>/run.json and writes report.md, junit.xml and report.html beside it; the
    Markdown is also appended to $GITHUB_STEP_SUMMARY when that is set. A run that was killed renders
    with an INCOMPLETE banner. --compare BASELINE shows each metric's change and exits 1 on a regression.
    """
    from kslab.report.runs import resolve_run

    cli = current(ctx)
    reports_dir = Path(cli.settings.reports_dir)
    if list_runs:
        _list(cli, reports_dir, output)
        return
    if compare is not None:
        _compare(cli, resolve_run(reports_dir, compare), resolve_run(reports_dir, run), output, out)
        return
    _render(cli, resolve_run(reports_dir, run), formats, out, output)


def _render(cli: CliContext, run_dir: Path, formats: str | None, out: Path | None, output: str | None) -> None:
    from kslab.report.render import parse_formats, render_all

    chosen = parse_formats(formats)
    paths = render_all(run_dir, chosen, out, cli.env.environ)  # appended only where $GITHUB_STEP_SUMMARY is set
    if (output or cli.settings.output) == "table":
        for kind, path in paths.items():
            print(f"{kind}: {path}")
        return
    from kslab.report.runs import load_record
    from kslab.report.summary import summarize

    summary = summarize(load_record(run_dir))
    emit(cli, summary | {"reports": {k: str(p) for k, p in paths.items()}}, output)


def _list(cli: CliContext, reports_dir: Path, output: str | None) -> None:
    from kslab.report.runs import list_runs

    skipped: list[tuple[Path, str]] = []
    runs = [r.to_dict() for r in list_runs(reports_dir, skipped)]
    for directory, why in skipped:  # one bad record is named and left out; the others are listed
        cli.err.print(f"skipped {directory.name}: {why}", highlight=False, markup=False)
    if (output or cli.settings.output) == "table":
        if not runs:
            cli.err.print(f"no runs in {reports_dir}", highlight=False, markup=False)
            return
        # 80 columns (a CI log) hold the whole run id, the longest command and result, and the start to the
        # minute in UTC (the run id has the second; -o json the full timestamp)
        emit(cli, [{k: r[k] for k in ("run_id", "command", "result")} | {"started_utc": _minute(r["started_at"]),
                                                                         "steps": r["steps"]} for r in runs],
             "table", title=f"runs in {reports_dir} (newest first)")
        return
    emit(cli, runs, output)


def _minute(stamp: str) -> str:
    """'2026-12-03T15:11:53.439860Z' -> '2026-12-03 15:11' (anything else as it is)."""
    date, _, time = stamp.partition("T")
    return f"{date} {time[:5]}" if len(date) == 10 and len(time) >= 5 else stamp


def _compare(cli: CliContext, baseline: Path, current_run: Path, output: str | None, out: Path | None) -> None:
    from kslab.report.compare import METHOD, compare, noise_rows
    from kslab.report.compare_page import write_compare_page
    from kslab.report.runs import load_record

    old, new = load_record(baseline), load_record(current_run)
    result = compare(old, new, cli.settings.report.thresholds)
    page = write_compare_page(old, new, result, out if out is not None else current_run)
    if (output or cli.settings.output) == "table":
        rows: list[dict[str, Any]] = [{**{k: v for k, v in row.items() if k != "per_second"},
                                       "change_pct": "-" if row["change_pct"] is None else f"{row['change_pct']:+g} %"}
                                      for row in result.rows]
        emit(cli, rows, "table", title=f"{result.current} against baseline {result.baseline}")
        emit(cli, noise_rows(result), "table", title=f"What the gate compared: {METHOD}")
        print(f"html: {page}")
    else:
        emit(cli, result.to_dict() | {"page": str(page)}, output)
    if result.regressions:
        raise CheckFailed("regression against the baseline: " + "; ".join(result.regressions),
                          "thresholds are report.thresholds in kslab.yaml (see docs/report.md)")
