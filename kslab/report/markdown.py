"""The Markdown report (GitHub-flavoured): what `kslab report` writes as report.md and CI shows as step summary."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kslab.report.record import RunView, ScenarioRun, read_run
from kslab.report.summary import scenario_measurements
from kslab.report.text import clean

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary of 1 MiB or more
CELL_MAX = 160
TRUNCATED = "\n\n_… truncated to stay under the step-summary limit; the full report is report.md in the run's " \
            "directory._\n"


def cell(value: Any, limit: int = CELL_MAX) -> str:
    """One table cell: JSON for structures, no newlines or pipes, cut at ``limit`` characters."""
    if value is None:
        return "-"
    text = clean(value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":")))
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def banner(summary: dict[str, Any]) -> str:
    return (f"> **INCOMPLETE RUN** — the record ends with result `{summary.get('result')}`"
            f"{'' if summary.get('finished_at') else ' and no finish time'}: the run was interrupted or killed, "
            "so the parts below stop where it stopped.")


ICONS = {"ok": "✅", "passed": "✅", "failed": "❌", "error": "❌", "skipped": "⏭️", "interrupted": "⚠️",
         "running": "⚠️"}


def _load_sections(summary: dict[str, Any]) -> list[str]:
    if not summary["loads"]:
        return []
    lines = ["## Load", ""]
    rows = []
    for load in summary["loads"]:
        lat = load.get("latency") or {}
        rows.append([load["key"], load.get("mode"), load.get("connections"), load.get("requests"),
                     load.get("throughput_rps"), lat.get("mean_ms"), lat.get("p50_ms"), lat.get("p90_ms"),
                     lat.get("p99_ms"), lat.get("max_ms"), load.get("error_total")])
    lines += table(["load", "mode", "conn.", "requests", "req/s", "mean ms", "p50 ms", "p90 ms", "p99 ms",
                    "max ms", "errors"], rows)
    for load in summary["loads"]:
        if load["profile"]:
            lines += [f"Throughput against concurrency ({load['key']}):", ""]
            lines += table(["connections", "req/s", "p50 ms", "p99 ms", "errors"],
                           [[lv["level"], lv["throughput_rps"], lv["p50_ms"], lv["p99_ms"], lv["errors"]]
                            for lv in load["profile"]])
    return lines


def _assertion_table(scenario: ScenarioRun) -> list[str]:
    assertions = scenario.entry.assertions or ()
    if not assertions:
        return []
    return [f"### {cell(scenario.entry.name)}", "",
            *table(["", "assertion", "expected", "observed", "tolerance", "message"],
                   [[ICONS["passed" if a.ok else "failed"], a.name, a.expected, a.observed, a.tolerance, a.message]
                    for a in assertions])]


def _measurement_tables(scenario: ScenarioRun) -> list[str]:
    return [line for title, headers, rows in scenario_measurements(scenario)
            for line in [f"{cell(title)}:", "", *table(headers, rows)]]


def _diagnosis_block(scenario: ScenarioRun) -> list[str]:
    if not scenario.entry.diagnosis:
        return []
    return [f"Diagnosis ({cell(scenario.entry.name)}):", "", "```json",
            json.dumps(scenario.entry.diagnosis, indent=2, default=str)[:4000], "```", ""]


def _scenario_sections(run: RunView, summary: dict[str, Any]) -> list[str]:
    if not summary["scenarios"]:
        return []
    lines = ["## Scenarios", ""]
    lines += table(["scenario", "verdict", "assertions", "duration s", "reason"],
                   [[f"{ICONS.get(r['verdict'], '')} {r['name']}", r["verdict"],
                     f"{r['assertions'] - r['assertions_failed']}/{r['assertions']} ok", r["duration_s"], r["reason"]]
                    for r in summary["scenarios"]])
    for scenario in run.scenarios:
        lines += _assertion_table(scenario) + _measurement_tables(scenario) + _diagnosis_block(scenario)
    return lines


def _diagnosis_section(run: RunView) -> list[str]:
    """kslab doctor's verdict on a failed deploy: the layer, what it found, the fix."""
    diagnosis = run.section("diagnosis")
    if not diagnosis:
        return []
    return ["## Diagnosis", "", f"Stuck at **{cell(diagnosis.get('layer'))}**: {cell(diagnosis.get('summary'))}",
            "", f"Fix: {cell(diagnosis.get('fix'))}", ""]


def _smoke_section(summary: dict[str, Any]) -> list[str]:
    if not summary["smoke"]:
        return []
    checks = summary["checks"]
    return [f"## Smoke checks ({checks['passed']}/{checks['total']} passed)", "",
            *table(["", "check", "expected", "actual", "latency ms"],
                   [[ICONS["passed" if c["ok"] else "failed"], c["name"], c["expected"], c["actual"], c["latency_ms"]]
                    for c in summary["smoke"]])]


def _facts_section(summary: dict[str, Any]) -> list[str]:
    facts = {**{f"cluster {k}": v for k, v in summary["cluster"].items()},
             **{f"stack {k}": v for k, v in summary["stack"].items()}}
    return ["## Cluster and stack", "", *table(["fact", "value"], [[k, v] for k, v in facts.items()])] if facts else []


def _title_lines(summary: dict[str, Any]) -> list[str]:
    tool = summary["tool"]
    lines = [f"# kslab {summary.get('command') or 'run'} — {summary.get('run_id')}", ""]
    if not summary["complete"]:
        lines += [banner(summary), ""]
    duration = summary.get("duration_s")
    return [*lines, f"Result: **{summary.get('result')}** {ICONS.get(str(summary.get('result')), '')} · provider "
            f"`{summary.get('provider') or '-'}` · started {summary.get('started_at')} · duration "
            f"{duration if duration is not None else '-'} s · kslab "
            f"{tool.get('kslab', '?')} (Python {tool.get('python', '?')})", ""]


def render_markdown(record: Mapping[str, Any] | RunView, summary: dict[str, Any]) -> str:
    run = read_run(record)
    lines = _title_lines(summary)
    if summary["headline"]:
        lines += ["## Summary", "", *table(["Metric", "Value", "Measured as"],
                                           [[r["metric"], r["value"], r["detail"]] for r in summary["headline"]])]
    lines += _diagnosis_section(run) + _scenario_sections(run, summary) + _smoke_section(summary)
    lines += _load_sections(summary) + _facts_section(summary)
    lines += ["## Steps", "", *table(["", "step", "result", "duration s", "detail"],
                                     [[ICONS.get(s["result"], ""), s["name"], s["result"], s["duration_s"],
                                       s["detail"]] for s in summary["steps"]])]
    return "\n".join(lines)


def append_step_summary(path: Path, markdown: str, limit: int = STEP_SUMMARY_LIMIT) -> int:
    """Append ``markdown`` to $GITHUB_STEP_SUMMARY's file, cut so the file stays under ``limit`` bytes.

    Returns the bytes written (0 when the file has no room left).
    """
    used = path.stat().st_size if path.exists() else 0
    room = limit - 1 - used - 2  # two newlines separate it from an earlier summary
    data = markdown.encode("utf-8")
    if len(data) > room:
        note = TRUNCATED.encode("utf-8")
        if room <= len(note):
            return 0
        cut = data[: room - len(note)]
        cut = cut[: cut.rfind(b"\n")] if b"\n" in cut else cut
        data = cut.decode("utf-8", errors="ignore").encode("utf-8") + note
    with path.open("ab") as handle:
        handle.write(b"\n\n" + data if used else data)
    return len(data)
