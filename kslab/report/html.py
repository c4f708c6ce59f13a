"""The HTML report: one self-contained page (inline CSS, plots embedded as PNG data URIs, no external URL)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from html import escape
from typing import Any

from kslab.models.entries import ScenarioEntry
from kslab.report.gates import gate_figures
from kslab.report.record import RunView, ScenarioRun, read_run
from kslab.report.summary import scenario_measurements
from kslab.report.text import clean

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;color:#212121}
h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.banner{background:#fff3e0;border:2px solid #ef6c00;padding:.75rem 1rem;font-weight:bold}
.ok,.passed{color:#2e7d32}.failed,.error{color:#c62828}.skipped{color:#757575}.interrupted,.running{color:#ef6c00}
figure{margin:1rem 0}figcaption{font-size:.85rem;color:#616161}img{max-width:100%}
.note{color:#ef6c00}pre{background:#f5f5f5;padding:.5rem;overflow-x:auto;font-size:.8rem}
"""
CELL_MAX = 300
LATENCY_COLUMNS = ("mean_ms", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms")
OUTCOMES = ("ok", "passed", "failed", "error", "skipped", "interrupted", "running")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    text = clean(value if isinstance(value, str) else json.dumps(value, default=str, separators=(", ", ": ")))
    return escape(text if len(text) <= CELL_MAX else text[: CELL_MAX - 1] + "…")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{value:g}</td>'
    if isinstance(value, str) and value in OUTCOMES:
        return f'<td class="{value}">{escape(value)}</td>'
    return f"<td>{_text(value)}</td>"


def _figure(caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _scenario_heading(entry: ScenarioEntry) -> str:
    verdict = entry.verdict_or_unknown
    return (f"<h3>{_text(entry.name)} — <span class=\"{escape(verdict)}\">{escape(verdict)}</span></h3>"
            f"<p>{_text(entry.description or '')} {_text(entry.reason or '')}</p>")


def _assertion_table(entry: ScenarioEntry) -> list[str]:
    if not entry.assertions:
        return []
    return [_table(["", "assertion", "expected", "observed", "tolerance", "message"],
                   [["passed" if a.ok else "failed", a.name, a.expected, a.observed, a.tolerance, a.message]
                    for a in entry.assertions])]


def _timeline_table(entry: ScenarioEntry) -> list[str]:
    """Condition changes and events, in time order."""
    conditions = (entry.timelines.conditions if entry.timelines else None) or ()
    events = entry.events or ()
    if not conditions and not events:
        return []
    rows = sorted([[c.t_s, f"{c.type}={c.status}", c.reason] for c in conditions]
                  + [[e.t_s, "event", e.label] for e in events], key=lambda row: row[0])
    return [_table(["t (s)", "condition / event", "reason / label"], rows)]


def _measurement_tables(scenario: ScenarioRun) -> list[str]:
    return [part for title, headers, rows in scenario_measurements(scenario)
            for part in (f"<p>{_text(title)}</p>", _table(headers, rows))]


def _diagnosis_block(entry: ScenarioEntry) -> list[str]:
    if not entry.diagnosis:
        return []
    return [f"<pre>{escape(json.dumps(entry.diagnosis, indent=2, default=str))}</pre>"]


def _scenarios(run: RunView, summary: dict[str, Any]) -> list[str]:
    if not summary["scenarios"]:
        return []
    parts = ["<h2>Scenarios</h2>", _table(["scenario", "verdict", "assertions ok", "duration s", "reason"],
                                         [[r["name"], r["verdict"], f"{r['assertions'] - r['assertions_failed']}/"
                                           f"{r['assertions']}", r["duration_s"], r["reason"]]
                                          for r in summary["scenarios"]])]
    for scenario in run.scenarios:
        entry = scenario.entry
        parts += [_scenario_heading(entry), *_assertion_table(entry), *_timeline_table(entry),
                  *_measurement_tables(scenario), *gate_figures(scenario), *_diagnosis_block(entry)]
    return parts


def _run_table(summary: dict[str, Any]) -> list[str]:
    parts = []
    if not summary["complete"]:
        from kslab.report.markdown import banner

        plain = banner(summary).lstrip("> ").replace("**", "").replace("`", "")
        parts.append(f'<div class="banner">{escape(plain)}</div>')
    tool = summary["tool"]
    return [*parts, _table(["result", "provider", "started", "finished", "duration s", "kslab", "python"],
                           [[summary.get("result"), summary.get("provider"), summary.get("started_at"),
                             summary.get("finished_at"), summary.get("duration_s"), tool.get("kslab"),
                             tool.get("python")]])]


def _headline_section(summary: dict[str, Any]) -> list[str]:
    if not summary["headline"]:
        return []
    return ["<h2>Summary</h2>", _table(["Metric", "Value", "Measured as"],
                                       [[r["metric"], r["value"], r["detail"]] for r in summary["headline"]])]


def _diagnosis_section(run: RunView) -> list[str]:
    diagnosis = run.section("diagnosis")
    if not diagnosis:
        return []
    return ["<h2>Diagnosis</h2>", _table(["layer", "what kslab found", "fix"],
                                         [[diagnosis.get("layer"), diagnosis.get("summary"), diagnosis.get("fix")]])]


def _smoke_section(summary: dict[str, Any]) -> list[str]:
    if not summary["smoke"]:
        return []
    checks = summary["checks"]
    return [f"<h2>Smoke checks ({checks['passed']}/{checks['total']} passed)</h2>",
            _table(["", "check", "expected", "actual", "latency ms"],
                   [["passed" if c["ok"] else "failed", c["name"], c["expected"], c["actual"], c["latency_ms"]]
                    for c in summary["smoke"]])]


def _load_section(summary: dict[str, Any]) -> list[str]:
    if not summary["loads"]:
        return []
    return ["<h2>Load</h2>", _table(
        ["load", "mode", "conn.", "requests", "req/s", "mean ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
         "max ms", "errors"],
        [[ld["key"], ld.get("mode"), ld.get("connections"), ld.get("requests"), ld.get("throughput_rps"),
          *((ld.get("latency") or {}).get(k) for k in LATENCY_COLUMNS), ld.get("error_total")]
         for ld in summary["loads"]])]


def _plots_section(plots: list[tuple[str, bytes]], problems: list[str]) -> list[str]:
    if not plots and not problems:
        return []
    return ["<h2>Plots</h2>", *(_figure(caption, png) for caption, png in plots),
            *(f'<p class="note">{_text(problem)}</p>' for problem in problems)]


def _key_value_section(title: str, headers: list[str], facts: dict[str, Any]) -> list[str]:
    return [f"<h2>{title}</h2>", _table(headers, [[k, v] for k, v in facts.items()])] if facts else []


def _steps_section(summary: dict[str, Any]) -> list[str]:
    return ["<h2>Steps</h2>", _table(["step", "result", "started at s", "duration s", "detail"],
                                     [[s["name"], s["result"], s["offset_s"], s["duration_s"], s["detail"]]
                                      for s in summary["steps"]])]


def render_html(record: Mapping[str, Any] | RunView, summary: dict[str, Any], plots: list[tuple[str, bytes]],
                problems: list[str] | None = None) -> str:
    run = read_run(record)
    title = f"kslab {summary.get('command') or 'run'} — {summary.get('run_id')}"
    facts = {**{f"cluster {k}": v for k, v in summary["cluster"].items()},
             **{f"stack {k}": v for k, v in summary["stack"].items()}}
    parts = [f"<h1>{escape(title)}</h1>", *_run_table(summary), *_headline_section(summary),
             *_diagnosis_section(run), *_scenarios(run, summary), *_smoke_section(summary), *_load_section(summary),
             *_plots_section(plots, problems or []), *_key_value_section("Cluster and stack", ["fact", "value"], facts),
             *_steps_section(summary),
             *_key_value_section("Environment", ["key", "value"], run.section("environment"))]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
