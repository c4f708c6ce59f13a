"""The scenario charts read well on real records of the scenario tests (tests/report_data: a mode-compare run and a
canary analysis rolled back, both recorded from tests/test_scenario_*.py against the fake cluster): legends sit in
the figure under the axes, event labels never overlap, counts sit on whole-number axes from 0, a time axis starts
at 0, the measured concurrency levels are the ticks, and no chart is shown wider than it was drawn.

The charts are read back as matplotlib drew them (the ``figures`` fixture of tests/test_report_dashboard.py).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path
from typing import Any

from kslab.report.htmlkit import png_width
from tests import test_report_dashboard as dashboard
from tests.report_support import workdir_fixture  # noqa: F401  (fixture registration)
from tests.test_report_dashboard import _figure, _legend, render

DATA = Path(__file__).parent / "report_data"
figures = dashboard.figures  # the dashboard tests' fixture


def recorded(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text())


def _boxes_inside(fig: Any, artists: list[Any]) -> None:
    fig.canvas.draw()
    frame = fig.bbox
    for artist in artists:
        box = artist.get_window_extent()
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1 and frame.y0 - 1 <= box.y0, (artist, box, frame)


def _with_axes(saved: list[Any], ylabel: str) -> list[Any]:
    return [ax for fig in saved for ax in fig.axes if ax.get_ylabel() == ylabel]


def _whole(ticks: Any) -> bool:
    return all(float(t).is_integer() for t in ticks)


def test_replicas_legend_sits_under_the_axes_inside_the_figure_with_short_names(workdir, figures):
    render(workdir, recorded("mode-compare"))
    fig = _figure(figures, "Replicas over time — mode-compare")
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert len(legends) == 1
    _boxes_inside(fig, legends)
    lowest = fig.axes[-1]
    assert legends[0].get_window_extent().y1 < lowest.get_window_extent().y0  # below the axes, not over data
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert labels[:5] == ["serverless-00001", "raw", "serverless-00002", "ready", "desired"]
    assert "sklearn-iris-" in legends[0].get_title().get_text()


def test_event_labels_never_overlap_and_are_numbered_as_in_the_table(workdir, figures):
    page = render(workdir, recorded("mode-compare"))
    fig = _figure(figures, "Replicas over time — mode-compare")
    fig.canvas.draw()
    labels = [text for ax in fig.axes for text in ax.texts]
    assert len(labels) >= 3 and all(re.fullmatch(r"\d+(-\d+)?", t.get_text()) for t in labels)
    boxes = sorted((t.get_window_extent() for t in labels), key=lambda b: b.x0)
    for left, right in itertools.pairwise(boxes):
        assert left.x1 <= right.x0, f"event labels overlap: {left} {right}"
    numbered = sorted(int(n) for t in labels for n in t.get_text().split("-"))
    assert numbered[0] == 1 and numbered[-1] == len(recorded("mode-compare")["scenarios"][0]["events"])
    assert "<td>event 14</td><td>cold-start: first response</td>" in page


def test_the_rollout_counts_failures_from_zero_on_whole_numbers_and_time_from_zero(workdir, figures):
    render(workdir, recorded("mode-compare"))
    failed = _with_axes(figures, "failed requests per second")
    assert len(failed) == 2  # serverless (no failure) and raw
    for ax in failed:
        assert ax.get_ylim()[0] == 0 and ax.get_xlim()[0] == 0, ax.get_title()
        assert _whole(ax.get_yticks()), (ax.get_title(), list(ax.get_yticks()))
    p99 = _with_axes(figures, "p99 ms (per second)")
    assert p99 and all(line.get_marker() == "o" for ax in p99 for line in ax.get_lines())
    serverless = next(ax for ax in failed if ax.get_title() == "serverless rollout")
    assert serverless.get_ylim()[1] >= 1  # no -0.04 .. 0.04 axis for zero failures


def test_ready_pods_tick_whole_pods_from_zero(workdir, figures):
    render(workdir, recorded("mode-compare"))
    [ax] = _with_axes(figures, "ready pods")
    assert _whole(ax.get_yticks()) and ax.get_ylim()[0] == 0 and ax.get_xlim()[0] == 0


def test_latency_per_level_ticks_the_measured_levels_with_a_grouped_legend(workdir, figures):
    render(workdir, recorded("mode-compare"))
    fig = _figure(figures, "Latency per concurrency level, both modes")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["c=1", "c=4"] and list(ax.get_xticks()) == [1, 4]
    assert ax.get_xscale() == "linear"  # 1 to 4: less than ten times
    assert _legend(ax) == ["raw", "serverless", "p50", "p99", "gateway", "in-cluster"]
    assert "colour: mode" in ax.get_legend().get_title().get_text()
    _boxes_inside(fig, [ax.get_legend()])


def test_many_levels_are_on_a_log_axis(workdir, figures):
    record = recorded("mode-compare")
    comparison = next(s for s in record["scenarios"][0]["steps"]
                      if isinstance((s.get("observations") or {}).get("levels"), dict))
    for paths in comparison["observations"]["levels"].values():
        for cells in paths.values():
            cells["64"] = dict(cells["4"])
    render(workdir, record)
    ax = _figure(figures, "Latency per concurrency level, both modes").axes[0]
    assert ax.get_xscale() == "log" and [t.get_text() for t in ax.get_xticklabels()] == ["c=1", "c=4", "c=64"]


def test_no_chart_is_shown_wider_than_it_was_drawn(workdir):
    page = render(workdir, recorded("mode-compare"))
    figures_html = re.findall(r'<figure([^>]*)><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', page)
    assert len(figures_html) >= 6
    for attributes, data in figures_html:
        width = png_width(base64.b64decode(data))
        assert f"max-width:calc({width}px" in attributes


def test_canary_accuracy_bars_say_their_value(workdir, figures):
    render(workdir, recorded("canary-rollback"))
    fig = _figure(figures, "Hold-out accuracy per revision")
    accuracy = next(ax for ax in fig.axes if ax.get_title() == "Hold-out accuracy per revision")
    assert [t.get_text() for t in accuracy.texts] == ["100 %", "27 %"]


def test_a_failed_scenario_says_why_apart_from_its_description(workdir):
    """The reason a scenario failed is its own line under the description, not run on after it."""
    html = render(workdir, recorded("canary-rollback"))
    assert '<p class="failed"><strong>Why:</strong> step 9 &quot;gates at first stage&quot;' in html
    assert "passing gates promote v2 step 9" not in html
