"""The HTML report as a dashboard, on a real `kslab lab --provider local` record (profile 1,5,10,20@5s, recorded
in tests/report_data) with the scenario entries of the contract: summary cards first, charts that show the
measured data (per level, level changes marked, readable step durations, scenario timelines), and the
comparison page of --compare with both runs drawn together.

The charts are checked as matplotlib drew them: every figure the report saves is kept and its axes read back.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import matplotlib.figure
import pytest

from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.report_support import (
    _iso,
    load_of,
    run_id,
    with_scenarios,
    workdir_fixture,  # noqa: F401  (fixture registration)
    write_run,
)

DATA = Path(__file__).parent / "report_data"
LEVELS = (1, 5, 10, 20)


def recorded(number: int = 1) -> dict[str, Any]:
    return json.loads((DATA / f"lab-local-{number}.json").read_text())


def with_cold_start(record: dict[str, Any]) -> dict[str, Any]:
    """The contract's scenarios, the cold-start one with a cold-start measurement (the observer's shape)."""
    out = with_scenarios(record)
    start = dt.datetime.fromisoformat(out["started_at"].replace("Z", "+00:00"))
    out["scenarios"][3]["steps"].append(
        {"name": "first request", "action": "observe", "phase": "main", "result": "ok", "duration_s": 9.0,
         "inputs": {"observe": "cold-start"}, "started_at": _iso(start, 120), "observations": {
             "first_request_ms": 8423.0, "status": 200, "pod": "sklearn-iris-predictor-00001-deployment-x",
             "parts": {"scheduled_ms": 310.0, "container_running_ms": 5120.0, "ready_ms": 7900.0,
                       "response_ms": 8423.0}}})
    return out


@pytest.fixture
def figures(monkeypatch) -> list[Any]:
    """Every matplotlib figure saved while the test runs."""
    saved: list[Any] = []
    original = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    return saved


def render(workdir: Path, record: dict[str, Any]) -> str:
    run_dir = write_run(workdir / "reports", record)
    assert run(["report", record["run_id"], "--format", "html"]) == ExitCode.OK
    return (run_dir / "report.html").read_text()


def _titles(fig: Any) -> str:
    suptitle = fig._suptitle.get_text() if fig._suptitle else ""
    return " ".join([suptitle, *(ax.get_title() for ax in fig.axes)])


def _figure(saved: list[Any], title: str) -> Any:
    found = [fig for fig in saved if title in _titles(fig)]
    assert len(found) == 1, [_titles(fig) for fig in saved]
    return found[0]


def _legend(ax: Any) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()] if ax.get_legend() else []


def test_the_page_opens_with_summary_cards(workdir):
    page = render(workdir, recorded())
    cards = re.findall(r'<div class="card (\w+)"><div class="label">([^<]*)</div><div class="value">([^<]*)</div>',
                       page)
    assert [(label, value) for _, label, value in cards] == [
        ("Verdict", "PASS"), ("Latency p50 / p99", "6.09 / 61.9 ms"), ("Throughput", "809 req/s"),
        ("Availability", "100.00 %"), ("Deployment time", "3.445 s"), ("Smoke checks", "14/14")]
    assert cards[0][0] == "ok" and page.index('class="cards"') < page.index("<figure")  # first, before any chart


def test_throughput_and_p99_per_level_are_on_axes_that_show_the_measured_data(workdir, figures):
    render(workdir, recorded())
    levels = load_of(recorded())["steps"]
    peak = max(level["throughput_rps"] for level in levels)  # 1004.2 req/s at 10 connections
    [throughput] = [ax for fig in figures for ax in fig.axes if ax.get_ylabel() == "requests per second"
                    and ax.get_xlabel() == "concurrent connections"]
    assert peak <= throughput.get_ylim()[1] <= 1.3 * peak  # no 'linear' line to 14,000 req/s flattening the data
    assert not [line for line in throughput.get_lines() if line.get_label() == "linear"]
    assert "ms" not in throughput.get_ylabel() and len(throughput.figure.axes) == 2  # p99 has its own axis
    [latency] = [ax for ax in throughput.figure.axes if ax is not throughput]
    assert latency.get_ylabel() == "latency (ms)" and not latency.get_shared_x_axes().joined(latency, throughput)
    p99 = max(level["latency"]["p99_ms"] for level in levels)
    assert p99 <= latency.get_ylim()[1] <= 1.3 * p99
    assert [t.get_text() for t in throughput.get_xticklabels()] == [f"c={n}" for n in LEVELS]


def test_latency_is_drawn_per_level_not_as_one_merged_histogram(workdir, figures):
    page = render(workdir, recorded())
    fig = _figure(figures, "Latency distribution per concurrency level")
    labels = _legend(fig.axes[0])
    assert [label.split(" ")[0] for label in labels] == [f"c={n}" for n in LEVELS]
    assert len(fig.axes[0].get_lines()) == len(LEVELS) and fig.axes[0].get_yscale() == "log"
    assert "Latency histogram — load" not in page  # the profile's histogram mixes its four levels


def test_the_timeline_marks_each_level_change(workdir, figures):
    render(workdir, recorded())
    fig = _figure(figures, "second by second")
    series = load_of(recorded())["series"]
    starts = sorted({min(r["t"] for r in series if r["step"] == level) for level in range(1, len(LEVELS))})
    for ax in fig.axes:
        vertical = sorted({line.get_xdata()[0] for line in ax.get_lines()
                           if len(set(line.get_xdata())) == 1 and line.get_linestyle() == "--"})
        assert vertical == starts
    marked = [text.get_text() for ax in fig.axes for text in ax.texts]
    assert marked == [f"c={n}" for n in LEVELS]
    assert {ax.get_ylabel() for ax in fig.axes} == {"latency (ms, log)", "requests / s"}  # one measure per axis


def test_step_durations_are_readable_on_a_log_axis_with_labels(workdir, figures):
    render(workdir, recorded())
    ax = _figure(figures, "Step durations").axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.texts]
    assert "93 ms" in labels and "20.6 s" in labels  # local-runtime and load, as they were recorded
    assert "smoke checks (14)" in [t.get_text() for t in ax.get_yticklabels()]


def test_scenarios_have_timelines_beside_their_tables(workdir, figures):
    page = render(workdir, with_cold_start(recorded()))
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", page)
    assert {"Traffic split over time — canary", "Canary split — canary", "Replicas over time — canary",
            "Replicas over time — autoscale", "Cold start — cold-start"} <= set(captions)
    traffic = _figure(figures, "Traffic split over time — canary").axes[0]
    assert traffic.get_xlim()[0] == 0 and "sklearn-iris-predictor-00002 observed (measure split)" in _legend(traffic)
    cold = _figure(figures, "Cold start, part by part").axes[0]
    assert _legend(cold) == ["scheduled at 310 ms", "container_running at 5,120 ms", "ready at 7,900 ms",
                             "response at 8,423 ms"]
    replicas = _figure(figures, "Replicas over time — canary")
    assert [ax.get_ylabel() for ax in replicas.axes] == ["replicas", "requests / s"]
    # each chart sits in a row with its tables
    row = page[page.index("Cold start — cold-start"):]
    assert row.index('<div class="side"><p>first request: first request after scale-to-zero') < row.index("</div>")


def test_every_chart_has_a_title_and_labelled_axes(workdir, figures):
    render(workdir, with_cold_start(recorded()))
    assert len(figures) >= 10
    for fig in figures:
        assert _titles(fig).strip()
        for ax in fig.axes:
            assert ax.get_ylabel() or ax.get_yticklabels(), _titles(fig)
        assert fig.axes[-1].get_xlabel() or fig.axes[0].get_xlabel(), _titles(fig)


def test_compare_writes_a_page_with_both_runs_on_one_chart_per_measure(workdir, figures, capsys):
    base, current = run_id(0, "lab", "ba5e"), run_id(90, "lab", "c0de")
    write_run(workdir / "reports", recorded(2), base)
    run_dir = write_run(workdir / "reports", copy.deepcopy(recorded(1)), current)
    assert run(["report", current, "--compare", base, "-o", "json"]) == ExitCode.OK
    result = json.loads(capsys.readouterr().out)
    page_path = workdir / result["page"]
    assert page_path == run_dir / f"compare-{base}.html"
    page = page_path.read_text()
    assert "What the gate compared:</b> per-second samples" in page and "Welch 95% confidence interval" in page
    assert "<td>+29 % [+8, +54] 16/16 s</td>" in page and '<td class="within-noise">within noise</td>' in page
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", page)
    assert captions == ["Throughput per level — load", "p99 per level — load", "Latency distribution — load",
                        "Second by second — load"]
    for title in ("Throughput per level", "p99 latency per level", "Latency distribution — load"):
        assert _legend(_figure(figures, title).axes[0]) == [f"baseline {base}", f"current {current}"]
    over_time = _figure(figures, "p99 and request rate, second by second")
    assert _legend(over_time.axes[0]) == [f"baseline {base} p99", f"current {current} p99"]
    assert "http" not in page.replace("http://127.0.0.1", "") and "<script" not in page


def test_a_single_level_run_keeps_its_exact_histogram(workdir, figures):
    record = recorded()
    load = load_of(record)
    load["mode"], load["steps"] = "constant", [load["steps"][0]]  # one level: nothing mixed in the histogram
    page = render(workdir, record)
    assert "Latency histogram — load" in page and "Latency distribution per level" not in page
    ax = _figure(figures, "Latency histogram — load").axes[0]
    assert ax.get_xscale() == "log" and _legend(ax) == ["p50 6.091 ms", "p99 61.887 ms"]
