"""Scenario measurements (latency by layer, cold-start parts, traffic split) appear as tables in the reports.

The observation dicts have the shapes kslab/scenarios/observers/{latency,coldstart,split}.py return.
"""

from __future__ import annotations

from kslab.report.html import render_html
from kslab.report.markdown import render_markdown
from kslab.report.summary import scenario_measurements, summarize


def _record() -> dict:
    steps = [
        {"name": "layers", "action": "observe", "result": "ok", "observations": {
            "layers": {"gateway_ms": 4.2, "service_ms": 3.1, "pod_ms": 2.0, "server_predict_ms": 0.6},
            "added_ms": {"gateway": 1.1, "queue_proxy": 1.1, "runtime": 1.4}}},
        {"name": "first request", "action": "observe", "result": "ok", "observations": {
            "first_request_ms": 912.5, "parts": {"scheduled_ms": 12.0, "containers_started_ms": 340.0,
                                                 "ready_ms": 880.1, "response_ms": 912.5}}},
        {"name": "split at canary percent", "action": "observe", "result": "ok", "observations": {
            "revisions": {"sklearn-iris-predictor-00001": {"requests": 361, "observed_percent": 90.25,
                                                           "configured_percent": 90},
                          "sklearn-iris-predictor-00002": {"requests": 39, "observed_percent": 9.75,
                                                           "configured_percent": 10}},
            "total": 400, "tolerance_points": 4.94, "max_deviation_points": 0.25, "within_tolerance": True}},
    ]
    scenario = {"name": "canary", "verdict": "passed", "steps": steps, "assertions": []}
    return {"schema": "kslab.run/v1", "run_id": "r1", "command": "scenario", "result": "ok", "steps": [],
            "scenarios": [scenario]}


def test_each_kind_of_measurement_becomes_a_table():
    [scenario] = _record()["scenarios"]
    titles = [title for title, _, _ in scenario_measurements(scenario)]
    assert titles == ["layers: latency by layer (median ms)",
                      "first request: first request after scale-to-zero (ms from sending it)",
                      "split at canary percent: traffic split over 400 requests (tolerance ±4.94 points)"]


def test_markdown_and_html_show_the_numbers():
    record = _record()
    markdown = render_markdown(record, summarize(record))
    assert "| added by queue_proxy | 1.1 |" in markdown
    assert "| ready_ms | 880.1 |" in markdown
    assert "| sklearn-iris-predictor-00002 | 10 | 9.75 | 39 |" in markdown
    html = render_html(record, summarize(record), [])
    assert "<td>server_predict_ms</td><td class=\"num\">0.6</td>" in html
