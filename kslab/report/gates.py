"""The canary gates in the report: each stage's gates as a table, each analysis per revision, and a plot of
every revision's latency and hold-out accuracy stage by stage (kslab/models/entries/gates.py reads them).

``gate_tables`` feeds the scenario's measurement tables (kslab/report/measurements.py), so every renderer that
shows those shows the gates; ``revision_plot`` is drawn in the scenario's section of the HTML report
(kslab/report/plots.py plans it, in the report's shared chart style).
"""

from __future__ import annotations

from typing import Any

from kslab.models.entries.gates import CanaryAnalysis, GateEvaluation, canary_views
from kslab.report.charts import figure, png
from kslab.report.record import ScenarioRun
from kslab.report.tables import Table


def _analyses(scenario: ScenarioRun) -> list[tuple[str, CanaryAnalysis]]:
    return [(step.name, view) for step, view in canary_views(scenario.entry.steps or ())
            if isinstance(view, CanaryAnalysis)]


def evaluation_table(step: str, judged: GateEvaluation) -> Table:
    stage = f" at stage {judged.stage}" if judged.stage is not None else ""
    title = (f"{step}: gates{stage}: {judged.status} -> {judged.decision or '?'} (canary {judged.canary}, "
             f"stable {judged.stable})")
    rows = [[g.name, g.status, g.expected, g.observed, " / ".join(f"{k} {v}" for k, v in (g.samples or {}).items()),
             g.reason] for g in judged.gates]
    return title, ["gate", "status", "expected", "observed", "samples", "reason"], rows


def analysis_table(step: str, measured: CanaryAnalysis) -> Table:
    rows: list[list[Any]] = [[rev, r.role, r.requests, r.errors, r.error_rate, r.p50_ms, r.p99_ms, r.accuracy]
                             for rev, r in measured.revisions.items()]
    split = measured.split or {}
    if split:
        rows.append(["(through the split)", "", split.get("requests"), split.get("errors"), split.get("error_rate"),
                     split.get("p50_ms"), split.get("p99_ms"), split.get("accuracy")])
    agreement = measured.agreement or {}
    title = (f"{step}: per revision (agreement {agreement.get('rate')} on {agreement.get('rows')} hold-out rows)"
             if agreement else f"{step}: per revision")
    return title, ["revision", "role", "requests", "errors", "error rate", "p50 ms", "p99 ms", "accuracy"], rows


def gate_tables(scenario: ScenarioRun) -> list[Table]:
    """A table per canary-analysis and per canary-gates step, in step order."""
    return [analysis_table(step.name, view) if isinstance(view, CanaryAnalysis) else evaluation_table(step.name, view)
            for step, view in canary_views(scenario.entry.steps or ())]


def revision_plot(scenario: ScenarioRun) -> bytes | None:
    """Latency (box per revision and stage) beside hold-out accuracy (bar per revision and stage); None without
    an analysis."""
    analyses = _analyses(scenario)
    if not analyses:
        return None
    fig, (lat, acc) = figure(1, 2)
    labels, boxes, bars = [], [], []
    for step, measured in analyses:
        for rev, r in measured.revisions.items():
            labels.append(f"{r.role or rev[-5:]}\n{step.removeprefix('analyse at ')}")
            boxes.append(list(r.latency_ms or ()) or [0.0])
            bars.append(100 * (r.accuracy or 0.0))
    lat.boxplot(boxes, whis=(1, 99))
    lat.set_xticks(range(1, len(labels) + 1), labels, fontsize=9)
    lat.set(ylabel="ms (whiskers p1-p99)", title="Latency per revision (tag host)")
    colours = ["#1565c0" if "stable" in label else "#ef6c00" for label in labels]
    drawn = acc.bar(range(len(labels)), bars, color=colours)
    acc.bar_label(drawn, labels=[f"{value:.0f} %" for value in bars], padding=2, fontsize=9)
    acc.set_xticks(range(len(labels)), labels, fontsize=9)
    acc.set(ylim=(0, 112), ylabel="% of hold-out answers right", title="Hold-out accuracy per revision")
    return png(fig)
