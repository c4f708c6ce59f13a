"""Tables of what a scenario's observe steps measured, one per measurement: (title, headers, rows).

Latency by layer (latency-layers: ms at each layer and what each layer adds), cold-start parts, and each
traffic-split measurement (configured against observed percent per revision).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kslab.models.entries import ColdStart, LatencyLayers, ModeComparison, Observation, TrafficSplit
from kslab.report.gates import gate_tables
from kslab.report.record import ScenarioRun, read_scenario
from kslab.report.tables import Table


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def layers_table(step: str, measured: LatencyLayers) -> Table:
    rows: list[list[Any]] = [[layer, value] for layer, value in measured.layers.items()]
    rows += [[f"added by {layer}", value] for layer, value in measured.added_ms.items()]
    return f"{step}: latency by layer (median ms)", ["layer", "ms"], rows


def cold_start_table(step: str, measured: ColdStart) -> Table:
    rows: list[list[Any]] = [[part, value] for part, value in measured.parts.items()]
    return f"{step}: first request after scale-to-zero (ms from sending it)", ["part", "ms"], rows


def split_table(step: str, measured: TrafficSplit) -> Table:
    rows: list[list[Any]] = [[rev, share.configured_percent, share.observed_percent, share.requests]
                             for rev, share in measured.revisions.items()]
    title = (f"{step}: traffic split over {measured.total} requests (tolerance ±"
             f"{_number(measured.tolerance_points)} points)")
    return title, ["revision", "configured %", "observed %", "requests"], rows


def comparison_tables(step: str, measured: ModeComparison) -> list[Table]:
    """mode-compare: the side-by-side table, then its reading (one sentence per row)."""
    rows: list[list[Any]] = [list(row) for row in measured.rows]
    return [(f"{step}: Serverless vs RawDeployment", ["metric", "serverless", "raw", "unit"], rows),
            (f"{step}: reading", ["what the numbers say"], [[sentence] for sentence in measured.reading])]


def measurement_table(step: str, measured: Observation) -> Table:
    if isinstance(measured, ModeComparison):
        return comparison_tables(step, measured)[0]
    if isinstance(measured, LatencyLayers):
        return layers_table(step, measured)
    if isinstance(measured, ColdStart):
        return cold_start_table(step, measured)
    return split_table(step, measured)


def scenario_measurements(scenario: Mapping[str, Any] | ScenarioRun) -> list[Table]:
    """A table per measurement of ``scenario`` (its record entry, or as read by kslab/report/record.py)."""
    run = scenario if isinstance(scenario, ScenarioRun) else read_scenario(scenario, 0)
    return [table for step, measured in run.measurements
            for table in (comparison_tables(step, measured) if isinstance(measured, ModeComparison)
                          else [measurement_table(step, measured)])] + gate_tables(run)
