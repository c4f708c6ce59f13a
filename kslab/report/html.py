"""The HTML report: one self-contained page (inline CSS, plots embedded as PNG data URIs, no external URL), laid
out as a dashboard: summary cards first, then each load and scenario with its charts beside its tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

from kslab.models.entries import LoadResult, ScenarioEntry
from kslab.report.cards import cards
from kslab.report.charts import Plot
from kslab.report.htmlkit import card_grid, figure, page, rows, table, text, titled
from kslab.report.record import RunView, ScenarioRun, read_run
from kslab.report.summary import scenario_measurements

LATENCY_COLUMNS = ("mean_ms", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms")
LEVEL_LATENCY = ("min_ms", "p50_ms", "p90_ms", "p99_ms", "p99_9_ms", "max_ms")


def _figures(plots: list[Plot], section: str) -> list[str]:
    return [figure(p.caption, p.png) for p in plots if p.section == section]


def _scenario_heading(entry: ScenarioEntry) -> str:
    verdict = entry.verdict_or_unknown
    why = f"<p class=\"{escape(verdict)}\"><strong>Why:</strong> {text(entry.reason)}</p>" if entry.reason else ""
    return (f"<h3>Scenario {text(entry.name)} — <span class=\"{escape(verdict)}\">{escape(verdict)}</span></h3>"
            f"<p>{text(entry.description or '')}</p>{why}")


def _assertion_table(entry: ScenarioEntry) -> list[str]:
    if not entry.assertions:
        return []
    return [titled("Assertions", ["", "assertion", "expected", "observed", "tolerance", "message"],
                   [["passed" if a.ok else "failed", a.name, a.expected, a.observed, a.tolerance, a.message]
                    for a in entry.assertions])]


def _timeline_table(entry: ScenarioEntry) -> list[str]:
    """Condition changes and events, in time order; events numbered as the scenario's timelines mark them."""
    conditions = (entry.timelines.conditions if entry.timelines else None) or ()
    events = entry.events or ()
    if not conditions and not events:
        return []
    found = sorted([[c.t_s, f"{c.type}={c.status}", c.reason] for c in conditions]
                   + [[e.t_s, f"event {n}", e.label] for n, e in enumerate(events, 1)], key=lambda row: row[0])
    return [titled("Conditions and events", ["t (s)", "condition / event", "reason / label"], found)]


def _diagnosis_block(entry: ScenarioEntry) -> list[str]:
    if not entry.diagnosis:
        return []
    return [f"<pre>{escape(json.dumps(entry.diagnosis, indent=2, default=str))}</pre>"]


def _scenario(scenario: ScenarioRun, plots: list[Plot]) -> list[str]:
    entry = scenario.entry
    sides = [*_assertion_table(entry), *_timeline_table(entry),
             *(titled(title, headers, found) for title, headers, found in scenario_measurements(scenario))]
    return [_scenario_heading(entry), *rows(_figures(plots, f"scenario:{entry.name}"), sides),
            *_diagnosis_block(entry)]


def _scenarios(run: RunView, summary: dict[str, Any], plots: list[Plot]) -> list[str]:
    if not summary["scenarios"]:
        return []
    parts = ["<h2>Scenarios</h2>", table(["scenario", "verdict", "assertions ok", "duration s", "reason"],
                                        [[r["name"], r["verdict"], f"{r['assertions'] - r['assertions_failed']}/"
                                          f"{r['assertions']}", r["duration_s"], r["reason"]]
                                         for r in summary["scenarios"]])]
    for scenario in run.scenarios:
        parts += _scenario(scenario, plots)
    return parts


def _meta(summary: dict[str, Any]) -> str:
    tool = summary["tool"]
    facts = [f"provider {summary.get('provider') or '?'}", f"started {summary.get('started_at') or '?'}",
             f"duration {summary.get('duration_s') if summary.get('duration_s') is not None else '?'} s",
             f"kslab {tool.get('kslab') or '?'}", f"python {tool.get('python') or '?'}"]
    return f'<p class="meta">{text(" · ".join(facts))}</p>'


def _banner(summary: dict[str, Any]) -> list[str]:
    if summary["complete"]:
        return []
    from kslab.report.markdown import banner

    plain = banner(summary).lstrip("> ").replace("**", "").replace("`", "")
    return [f'<div class="banner">{escape(plain)}</div>']


def _headline_section(summary: dict[str, Any]) -> list[str]:
    if not summary["headline"]:
        return []
    return ["<h2>Summary</h2>", table(["Metric", "Value", "Measured as"],
                                      [[r["metric"], r["value"], r["detail"]] for r in summary["headline"]])]


def _diagnosis_section(run: RunView) -> list[str]:
    diagnosis = run.section("diagnosis")
    if not diagnosis:
        return []
    return ["<h2>Diagnosis</h2>", table(["layer", "what kslab found", "fix"],
                                        [[diagnosis.get("layer"), diagnosis.get("summary"), diagnosis.get("fix")]])]


def _smoke_section(summary: dict[str, Any]) -> list[str]:
    if not summary["smoke"]:
        return []
    checks = summary["checks"]
    return [f"<h2>Smoke checks ({checks['passed']}/{checks['total']} passed)</h2>",
            table(["", "check", "expected", "actual", "latency ms"],
                  [["passed" if c["ok"] else "failed", c["name"], c["expected"], c["actual"], c["latency_ms"]]
                   for c in summary["smoke"]])]


def _level_tables(result: LoadResult) -> list[str]:
    levels = result.steps or ()
    if len(levels) < 2:
        return []
    return [titled("Per concurrency level", ["conn.", "requests", "req/s", "errors", "p50 ms", "p99 ms"],
                   [[lv.level, lv.requests, lv.throughput_rps, lv.error_total,
                     lv.latency.p50_ms if lv.latency else None, lv.latency.p99_ms if lv.latency else None]
                    for lv in levels]),
            titled("Latency per level (ms)", ["conn.", "min", "p50", "p90", "p99", "p99.9", "max"],
                   [[lv.level, *((getattr(lv.latency, k) if lv.latency else None) for k in LEVEL_LATENCY)]
                    for lv in levels])]


def _totals_table(load: dict[str, Any]) -> str:
    latency = load.get("latency") or {}
    facts = [("mode", load.get("mode")), ("connections", load.get("connections")), ("requests", load.get("requests")),
             ("req/s", load.get("throughput_rps")), ("errors", load.get("error_total")),
             *((f"{k[:-3].replace('_', '.')} ms", latency.get(k)) for k in LATENCY_COLUMNS)]
    return titled("Totals after warm-up", ["measure", "value"], [list(fact) for fact in facts])


def _load_sections(run: RunView, summary: dict[str, Any], plots: list[Plot]) -> list[str]:
    parts = []
    for load, row in zip(run.loads, summary["loads"], strict=True):
        where = f" (scenario {load.scenario})" if load.scenario else ""
        levels = _level_tables(load.result)  # the time chart (last) gets the page's width
        sides = [levels[0] + _totals_table(row), *levels[1:]] if levels else [_totals_table(row)]
        parts += [f"<h2>Load — {text(load.key)}{text(where)}</h2>",
                  *rows(_figures(plots, f"load:{load.key}"), sides)]
    return parts


def _problems(problems: list[str]) -> list[str]:
    return [f'<p class="note">{text(problem)}</p>' for problem in problems]


def _key_value_section(title: str, headers: list[str], facts: dict[str, Any]) -> list[str]:
    return [f"<h2>{title}</h2>", table(headers, [[k, v] for k, v in facts.items()])] if facts else []


def _steps_section(summary: dict[str, Any], plots: list[Plot]) -> list[str]:
    steps = table(["step", "result", "started at s", "duration s", "detail"],
                  [[s["name"], s["result"], s["offset_s"], s["duration_s"], s["detail"]] for s in summary["steps"]])
    return ["<h2>Steps</h2>", *rows(_figures(plots, "steps"), []), steps]


def render_html(record: Mapping[str, Any] | RunView, summary: dict[str, Any], plots: list[Plot],
                problems: list[str] | None = None) -> str:
    run = read_run(record)
    title = f"kslab {summary.get('command') or 'run'} — {summary.get('run_id')}"
    facts = {**{f"cluster {k}": v for k, v in summary["cluster"].items()},
             **{f"stack {k}": v for k, v in summary["stack"].items()}}
    parts = [f"<h1>{escape(title)}</h1>", _meta(summary), *_banner(summary), card_grid(cards(summary)),
             *_problems(problems or []), *_diagnosis_section(run), *_load_sections(run, summary, plots),
             *_scenarios(run, summary, plots), *_headline_section(summary), *_smoke_section(summary),
             *_steps_section(summary, plots),
             *_key_value_section("Cluster and stack", ["fact", "value"], facts),
             *_key_value_section("Environment", ["key", "value"], run.section("environment"))]
    return page(title, parts)
