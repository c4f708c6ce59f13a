"""The building blocks of kslab's HTML pages (the run report, the comparison page): one stylesheet, escaped
cells and tables, figures embedded as PNG data URIs, summary cards, chart-beside-table rows, and the page itself.
Nothing links outside the page: it opens offline."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from html import escape
from typing import Any

from kslab.report.cards import Card
from kslab.report.text import clean

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;padding:1.5rem 2rem;max-width:1500px;
color:#212121;background:#fafafa;line-height:1.4}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.3rem;border-bottom:2px solid #e0e0e0;padding-bottom:.25rem;
margin-top:2.5rem}h3{font-size:1.1rem;margin:1.5rem 0 .5rem}
.meta{color:#616161;margin:.2rem 0 1rem}
table{border-collapse:collapse;margin:.25rem 0 1rem;font-size:.88rem;background:#fff;max-width:100%}
th,td{border:1px solid #e0e0e0;padding:.3rem .55rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
td[class]{white-space:nowrap}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.banner{background:#fff3e0;border:2px solid #ef6c00;padding:.75rem 1rem;font-weight:bold;margin:1rem 0}
.ok,.passed{color:#2e7d32}.failed,.error,.regression{color:#c62828;font-weight:bold}.skipped{color:#757575}
.interrupted,.running,.within-noise{color:#ef6c00}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(165px,1fr));gap:.8rem;margin:1rem 0 1.5rem}
.card{background:#fff;border:1px solid #e0e0e0;border-top:5px solid #90a4ae;border-radius:6px;padding:.7rem .9rem;
font-weight:normal}
.card.ok{border-top-color:#2e7d32}.card.failed{border-top-color:#c62828}.card.warn{border-top-color:#ef6c00}
.card .label{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#616161}
.card .value{font-size:1.4rem;font-weight:700;margin:.15rem 0;color:#212121}
.card.ok .value{color:#2e7d32}.card.failed .value{color:#c62828}.card.warn .value{color:#ef6c00}
.card .detail{font-size:.8rem;color:#616161}
.row{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1.5rem;align-items:start;margin:1rem 0}
.row.wide{grid-template-columns:minmax(0,1fr)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,560px),1fr));gap:1.5rem;margin:1rem 0}
.side{overflow-x:auto}.side p{margin:.2rem 0;font-weight:600;font-size:.9rem}
.side table{font-size:.8rem}.side th,.side td{padding:.25rem .35rem}
figure{margin:0;background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:.5rem}
figcaption{font-size:.85rem;color:#616161;margin-top:.3rem}img{width:100%;height:auto;display:block}
.note{color:#ef6c00}pre{background:#f5f5f5;padding:.5rem;overflow-x:auto;font-size:.8rem}
@media (max-width:1000px){.row{grid-template-columns:minmax(0,1fr)}body{padding:1rem}}
"""
CELL_MAX = 300
LONG_WORD = re.compile(r"[^\s&;]{17,}")  # never inside an escaped entity
SOFT_BREAK = re.compile(r"(?<=[=,])(?=[^\s=,])|(?<=[a-z])(?=[A-Z])")
OUTCOMES = ("ok", "passed", "failed", "error", "skipped", "interrupted", "running", "regression", "within noise")


def text(value: Any) -> str:
    if value is None:
        return "-"
    cleaned = clean(value if isinstance(value, str) else json.dumps(value, default=str, separators=(", ", ": ")))
    return escape(cleaned if len(cleaned) <= CELL_MAX else cleaned[: CELL_MAX - 1] + "…")


def breakable(escaped: str) -> str:
    """``escaped`` with a line-break opportunity (``<wbr>``) inside each long word, after '=' or ',' and
    before a capital that follows a small letter: a narrow column wraps PredictorConfigurationReady=Unknown
    between its words instead of mid-word."""
    return LONG_WORD.sub(lambda word: SOFT_BREAK.sub("<wbr>", word.group()), escaped)


def cell(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{value:g}</td>'
    if isinstance(value, str) and value in OUTCOMES:
        return f'<td class="{value.replace(" ", "-")}">{escape(value)}</td>'
    return f"<td>{breakable(text(value))}</td>"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def titled(title: str, headers: list[str], rows: list[list[Any]]) -> str:
    return f"<p>{text(title)}</p>{table(headers, rows)}"


def png_width(png: bytes) -> int | None:
    """The PNG's width in pixels (its IHDR chunk), None when the bytes are no PNG."""
    return int.from_bytes(png[16:20], "big") if png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) >= 24 else None


def figure(caption: str, png: bytes) -> str:
    """The chart, never shown wider than it was drawn: a chart drawn for a column keeps its fonts' size when it
    has the page's width to itself."""
    data = base64.b64encode(png).decode("ascii")
    width = png_width(png)
    cap = f' style="max-width:calc({width}px + 1rem + 2px)"' if width else ""
    return (f'<figure{cap}><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def card_grid(cards: Iterable[Card]) -> str:
    return '<section class="cards">' + "".join(
        f'<div class="card {escape(c.tone)}"><div class="label">{escape(c.label)}</div>'
        f'<div class="value">{text(c.value)}</div><div class="detail">{text(c.detail)}</div></div>'
        for c in cards) + "</section>"


def rows(figures: list[str], sides: list[str]) -> list[str]:
    """Each figure with the table beside it, in order; figures without a table span the width, and tables
    without a figure follow."""
    out = []
    for index, fig in enumerate(figures):
        side = sides[index] if index < len(sides) else None
        out.append(f'<div class="row">{fig}<div class="side">{side}</div></div>' if side is not None
                   else f'<div class="row wide">{fig}</div>')
    return out + [f'<div class="side">{side}</div>' for side in sides[len(figures):]]


def grid(figures: list[str]) -> list[str]:
    """Figures side by side, as many as fit the width (one on a narrow screen)."""
    return [f'<div class="grid">{"".join(figures)}</div>'] if figures else []


def page(title: str, parts: list[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
