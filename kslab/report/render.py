"""Render a run directory's record into report.md, junit.xml and report.html (and the CI step summary)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kslab.errors import UsageError
from kslab.report.record import read_run
from kslab.report.runs import load_record
from kslab.report.summary import summarize
from kslab.util.atomic import write_text

FORMATS = {"md": "report.md", "junit": "junit.xml", "html": "report.html"}
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def parse_formats(text: str | None) -> tuple[str, ...]:
    """``md,junit,html`` or ``all`` (the default) → the formats, in a fixed order."""
    if text is None or text.strip() == "all":
        return tuple(FORMATS)
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in FORMATS]
    if unknown or not chosen:
        raise UsageError(f"--format {text!r}: expected a comma list of {', '.join(FORMATS)}, or all")
    return tuple(f for f in FORMATS if f in chosen)


def render_all(record_dir: Path, formats: tuple[str, ...] = tuple(FORMATS), out_dir: Path | None = None,
               environ: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Write each format beside run.json (or into ``out_dir``); given ``environ`` (the session's
    Environment.environ) also append the Markdown to the file its $GITHUB_STEP_SUMMARY names, when that is set.
    Returns {format: path written}.

    The record itself is only read: an incomplete record (a killed run) renders with an INCOMPLETE banner.
    """
    run = read_run(load_record(Path(record_dir)))  # a malformed entry: one line naming the run and the field
    summary = summarize(run)
    target = Path(out_dir) if out_dir is not None else Path(record_dir)
    written: dict[str, Path] = {}
    markdown: str | None = None
    summary_file = (environ or {}).get(STEP_SUMMARY_ENV)
    if "md" in formats or summary_file:
        from kslab.report.markdown import render_markdown

        markdown = render_markdown(run, summary)
    if "md" in formats and markdown is not None:
        written["md"] = _write(target / FORMATS["md"], markdown)
    if "junit" in formats:
        from kslab.report.junit import render_junit

        written["junit"] = _write(target / FORMATS["junit"], render_junit(run))
    if "html" in formats:
        from kslab.report.html import render_html
        from kslab.report.plots import all_plots

        plots, problems = all_plots(run)
        written["html"] = _write(target / FORMATS["html"], render_html(run, summary, plots, problems))
    if summary_file and markdown is not None:
        from kslab.report.markdown import append_step_summary

        if append_step_summary(Path(summary_file), markdown):
            written["step-summary"] = Path(summary_file)
    return written


def _write(path: Path, text: str) -> Path:
    write_text(path, text)
    return path
