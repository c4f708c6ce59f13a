"""The comparison page of `kslab report RUN --compare BASELINE`: one self-contained HTML page with the gate's
verdict, what it compared (method, seconds, intervals), and both runs drawn together on one chart per measure,
each load's metric rows beside its charts."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from kslab.report.cards import Card
from kslab.report.compare import METHOD, MIN_SECONDS, Comparison, noise_text
from kslab.report.htmlkit import card_grid, figure, grid, page, rows, table, text
from kslab.report.plots_compare import compare_plots
from kslab.report.record import read_run
from kslab.util.atomic import write_text

COLUMNS = ["metric", "baseline", "current", "change", "threshold", "per second [95 % CI]", "verdict"]


def page_name(comparison: Comparison) -> str:
    return f"compare-{comparison.baseline}.html"


def _row(row: dict[str, Any]) -> list[Any]:
    change = "-" if row["change_pct"] is None else f"{row['change_pct']:+g} %"
    return [row["metric"], row["baseline"], row["current"], change, row["threshold"],
            noise_text(row.get("per_second")), row["verdict"]]


def _gated_card(comparison: Comparison, metric: str, label: str) -> Card | None:
    row = next((r for r in comparison.rows if r["metric"] == metric), None)
    if row is None:
        return None
    tone = {"regression": "failed", "within noise": "warn", "ok": "ok"}.get(row["verdict"], "neutral")
    noise = row.get("per_second")
    value = "-" if not noise else f"{noise['change_pct']:+g} %"
    return Card(label, value, f"{noise_text(noise)}: {row['verdict']} (threshold {row['threshold']})", tone)


def _cards(comparison: Comparison, primary: str | None) -> list[Card]:
    regressed = bool(comparison.regressions)
    gated = [r for r in comparison.rows if r.get("per_second") is not None]
    short = [r for r in comparison.rows if r["verdict"] == "too few samples"]
    out = [Card("Verdict", "REGRESSION" if regressed else "NO REGRESSION",
                f"{len(comparison.regressions)} limit(s) crossed" if regressed else "no limit crossed beyond the noise",
                "failed" if regressed else "ok"),
           Card("Compared per second", f"{len(gated)} metrics", f"{len(short)} not gated: fewer than {MIN_SECONDS} "
                "whole seconds in a run")]
    if primary is not None:
        out += [c for c in (_gated_card(comparison, f"{primary}.p99_ms", "p99 change (per second)"),
                            _gated_card(comparison, f"{primary}.throughput_rps", "Throughput change (per second)"))
                if c is not None]
    return out


def render_compare_html(baseline: Mapping[str, Any], current: Mapping[str, Any], comparison: Comparison) -> str:
    old, new = read_run(baseline), read_run(current)
    before = {ld.key: ld.result for ld in old.loads}
    keys = [ld.key for ld in new.loads if ld.key in before]
    title = f"kslab compare — {comparison.current} against baseline {comparison.baseline}"
    parts = [f"<h1>{escape(title)}</h1>",
             f'<p class="meta">grey: baseline {text(comparison.baseline)} · blue: current {text(comparison.current)}'
             "</p>", card_grid(_cards(comparison, keys[0] if keys else None)),
             f"<p><b>What the gate compared:</b> {escape(METHOD)}.</p>"]
    if comparison.regressions:
        parts.append("<ul>" + "".join(f'<li class="regression">{text(r)}</li>' for r in comparison.regressions)
                     + "</ul>")
    shown: set[str] = set()
    for ld in new.loads:
        if ld.key not in before:
            continue
        runs = [(f"baseline {comparison.baseline}", before[ld.key]), (f"current {comparison.current}", ld.result)]
        drawn, problems = compare_plots(runs, ld.key)
        wide_captions = {f"Second by second — {ld.key}"}
        mine = [r for r in comparison.rows if r["metric"].startswith((f"{ld.key}.", f"{ld.key}@c"))]
        shown |= {r["metric"] for r in mine}
        side_by_side = [figure(caption, image) for caption, image in drawn if caption not in wide_captions]
        wide = [figure(caption, image) for caption, image in drawn if caption in wide_captions]
        parts += [f"<h2>Load — {text(ld.key)}</h2>", *(f'<p class="note">{text(p)}</p>' for p in problems),
                  *grid(side_by_side), *rows(wide, []), table(COLUMNS, [_row(r) for r in mine])]
    rest = [r for r in comparison.rows if r["metric"] not in shown]
    if rest:
        parts += ["<h2>Other metrics, scenarios and checks</h2>", table(COLUMNS, [_row(r) for r in rest])]
    return page(title, parts)


def write_compare_page(baseline: Mapping[str, Any], current: Mapping[str, Any], comparison: Comparison,
                       out_dir: Path) -> Path:
    """Write the page into ``out_dir`` (the current run's directory, or --out) and return its path."""
    path = Path(out_dir) / page_name(comparison)
    write_text(path, render_compare_html(baseline, current, comparison))
    return path
