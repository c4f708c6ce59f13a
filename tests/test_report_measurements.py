"""Scenario measurements (latency by layer, cold-start parts, traffic split) appear as tables in the reports.

The observations are not written by hand: one scenario runs the three measuring observers (latency-layers,
traffic-split, cold-start) against the fake cluster with real model servers, and the run directory it leaves is
rendered with render_all. The expected cells are read from that run record, so an observer that renames a key
the report reads (layers, added_ms, parts, first_request_ms, revisions, tolerance_points, ...) loses its table
and fails this test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kslab.report.render import render_all
from tests.scenario_harness.fixture import (  # noqa: F401
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

MEASURE = """\
name: measure
description: "every measuring observer once, for the report"
steps:
  - name: deploy
    apply: {isvc: sklearn-iris, mode: knative}
  - name: ready
    wait: {resource: isvc, name: sklearn-iris, condition: Ready, generation: true}
    timeout: 30s
  - name: layers
    observe: latency-layers
    with: {requests: 3}
  - name: split
    observe: traffic-split
    with: {requests: 20, concurrency: 2}
  - name: allow scale to zero
    patch: {resource: isvc, name: sklearn-iris, merge: {spec: {predictor: {minReplicas: 0}}}}
  - name: ready at zero
    wait: {resource: isvc, name: sklearn-iris, condition: Ready, generation: true}
    timeout: 30s
  - name: first request
    observe: cold-start
    with: {timeout: 20s, request_timeout: 20s}
"""


@pytest.fixture
def measured_run(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]) -> Path:
    """The run directory of the scenario above (real observer output in its run.json)."""
    scenario = scenario_lab.lab.tmp_path / "measure.yaml"
    scenario.write_text(MEASURE)
    code, out, err = scenario_lab.kslab(capsys, "scenario", "run", str(scenario))
    [entry] = scenario_lab.lab.record()["scenarios"]
    assert (code, entry["verdict"]) == (0, "passed"), (entry["reason"], out[-2000:], err[-2000:])
    return scenario_lab.lab.records()[-1].parent


def _observations(run_dir: Path) -> dict[str, dict[str, Any]]:
    [entry] = json.loads((run_dir / "run.json").read_text())["scenarios"]
    return {s["name"]: s["observations"] for s in entry["steps"] if s["name"] in ("layers", "split", "first request")}


def _md(value: Any) -> str:
    return json.dumps(value)  # a Markdown cell holds a number as JSON


def test_markdown_and_html_show_what_the_observers_measured(measured_run: Path) -> None:
    obs = _observations(measured_run)
    written = render_all(measured_run, ("md", "html"))
    markdown, html = written["md"].read_text(), written["html"].read_text()

    layers, split, cold = obs["layers"], obs["split"], obs["first request"]
    titles = ["layers: latency by layer (median ms):",
              f"split: traffic split over {split['total']} requests (tolerance ±",
              "first request: first request after scale-to-zero (ms from sending it):"]
    assert all(title in markdown for title in titles), markdown
    assert markdown.index(titles[0]) < markdown.index(titles[1]) < markdown.index(titles[2])  # in step order

    rows = [(layer, value) for layer, value in layers["layers"].items()]
    rows += [(f"added by {layer}", value) for layer, value in layers["added_ms"].items()]
    rows += list(cold["parts"].items())
    assert len(rows) == 4 + 3 + 4 and all(isinstance(v, float) for _, v in rows), rows  # all measured
    for label, value in rows:
        assert f"| {label} | {_md(value)} |" in markdown, label
        assert f'<td>{label}</td><td class="num">{value:g}</td>' in html, label

    assert split["total"] == 20 and list(split["revisions"]) == ["sklearn-iris-predictor-00001"]
    for revision, share in split["revisions"].items():
        cells = [share["configured_percent"], share["observed_percent"], share["requests"]]
        assert f"| {revision} | {' | '.join(_md(c) for c in cells)} |" in markdown
        assert f"<td>{revision}</td>" + "".join(f'<td class="num">{c:g}</td>' for c in cells) in html
