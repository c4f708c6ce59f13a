"""The mode comparison's plots (a ``mode-compare`` step's :class:`ModeComparison`), as (caption, PNG) pairs.

Latency per level for both modes on one chart (p50 and p99, median of the rounds with their range), ready pods of
each side over the scenario (the footprint), the serverless cold start's parts, and each side's rollout timeline
(failed requests and p99 per second, with the change and the moment it served 100 %). The tables and the reading
come through kslab/report/measurements.py like every measurement; matplotlib is imported only when drawing, with the
report's shared chart style (kslab/report/charts.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from kslab.models.entries import ModeComparison
from kslab.report.charts import HEIGHT_IN, WIDTH_IN, figure, integer_axis, legend_below, png, pyplot
from kslab.report.record import ScenarioRun

COLOURS = {"serverless": "#1565c0", "raw": "#ef6c00"}


PATHS = {"gateway": "-", "in_cluster": ":"}
STATS = {"p50_ms": "o", "p99_ms": "^"}


def _level_axis(ax: Any, levels: list[int]) -> None:
    """The measured concurrency levels as the x ticks, on a log axis when they span more than ten times."""
    from matplotlib.ticker import NullLocator

    if levels and max(levels) > 10 * min(levels):
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(levels, [f"c={level}" for level in levels])


def _grouped_legend(ax: Any, sides: list[str]) -> None:
    """One entry per mode (colour), per percentile (marker) and per path (line style), not one per combination."""
    from matplotlib.lines import Line2D

    handles = [*(Line2D([], [], color=COLOURS.get(side), linewidth=2) for side in sides),
               *(Line2D([], [], color="black", marker=marker, linestyle="none") for marker in STATS.values()),
               *(Line2D([], [], color="black", linestyle=style) for style in PATHS.values())]
    labels = [*sides, *(stat[:-3] for stat in STATS), *(path.replace("_", "-") for path in PATHS)]
    legend_below(ax, handles, labels, columns=len(labels),
                 title="colour: mode   marker: percentile   line: path (gateway or in-cluster)")


def latency_plot(measured: ModeComparison) -> bytes | None:
    if not measured.levels:
        return None
    fig, ax = figure(height=HEIGHT_IN * 1.1)
    drawn: set[int] = set()
    for side, paths in measured.levels.items():
        for path, style in PATHS.items():
            cells = sorted(((int(level), cell) for level, cell in (paths.get(path) or {}).items()), key=lambda x: x[0])
            for key, marker in STATS.items():
                points = [(level, cell[key], cell.get(key.replace("_ms", "_min_ms")),
                           cell.get(key.replace("_ms", "_max_ms")))
                          for level, cell in cells if cell.get(key) is not None]
                if not points:
                    continue
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                low = [y - (p[2] if p[2] is not None else y) for p, y in zip(points, ys, strict=True)]
                high = [(p[3] if p[3] is not None else y) - y for p, y in zip(points, ys, strict=True)]
                ax.errorbar(xs, ys, yerr=[low, high], fmt=marker + style, color=COLOURS.get(side), capsize=3)
                drawn.update(xs)
    if not drawn:
        pyplot().close(fig)
        return None
    _level_axis(ax, sorted(drawn))
    ax.set(xlabel="concurrency (the measured levels)", ylabel="ms (median of rounds, bars: range)",
           title="Latency per concurrency level, both modes")
    _grouped_legend(ax, list(measured.levels))
    return png(fig)


def footprint_plot(measured: ModeComparison) -> bytes | None:
    if not measured.footprint or not any(measured.footprint.values()):
        return None
    fig, ax = figure(height=HEIGHT_IN * 0.8)
    for side, series in measured.footprint.items():
        if series:
            ax.step([p[0] for p in series], [p[1] for p in series], where="post", color=COLOURS.get(side), label=side)
    integer_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.set(xlabel="scenario time (s)", ylabel="ready pods", title="Ready pods over time (footprint)")
    ax.legend(fontsize=9)
    return png(fig)


def cold_start_plot(measured: ModeComparison) -> bytes | None:
    parts = {k: v for k, v in (measured.cold_start or {}).items() if v is not None}
    if not parts:
        return None
    fig, ax = figure(height=HEIGHT_IN * 0.7)
    names = list(parts)
    ax.barh(names, [parts[n] for n in names], color=COLOURS["serverless"])
    ax.set_xlabel("ms from sending the first request (serverless; raw has no cold start)")
    ax.set_title("Serverless cold start, by part")
    ax.invert_yaxis()
    return png(fig)


def _rollout_panel(ax: Any, side: str, rollout: dict[str, Any]) -> None:
    """Failed requests per second (bars, a whole-number axis from 0) and p99 per second (points joined: a
    second's p99, not a trend) on the load's clock from 0, the change and the moment it served 100 % marked."""
    series = rollout["series"]
    ts = [row.get("t") or 0 for row in series]
    ax.bar(ts, [row.get("errors") or 0 for row in series], color="#c62828", width=0.8,
           label="failed requests per second")
    twin = ax.twinx()
    p99 = [row.get("p99_ms") for row in series]
    twin.plot(ts, p99, marker="o", linestyle="-" if len(ts) >= 5 else "none", color=COLOURS.get(side),
              clip_on=False, label="p99 of each second (ms)")
    marks = [(rollout.get(key), label) for key, label in (("patched_at_s", "version changed"),
                                                           ("done_at_s", "serves 100 %"))]
    for index, (at, label) in enumerate(marks):  # the change's label left of its line, the end's right of it
        if at is not None:
            ax.axvline(at, color="#616161", linestyle="--")
            ax.annotate(label, (at, 1.0), xycoords=("data", "axes fraction"), xytext=(-3 if index == 0 else 3, -4),
                        textcoords="offset points", fontsize=8, va="top", ha="right" if index == 0 else "left",
                        rotation=90)
    integer_axis(ax.yaxis)
    ax.set_ylim(bottom=0, top=max(1, *(row.get("errors") or 0 for row in series)) * 1.1)
    ax.set_xlim(left=0, right=max(ts) + 1)
    ax.set_title(f"{side} rollout", fontsize=10)
    ax.set(xlabel="s since the load started", ylabel="failed requests per second")
    twin.set_ylabel("p99 ms (per second)")
    twin.grid(False)
    lines, labels = ax.get_legend_handles_labels()
    more, named = twin.get_legend_handles_labels()
    twin.legend(lines + more, labels + named, loc="upper right", fontsize=8)


def rollout_plot(measured: ModeComparison) -> bytes | None:
    sides = {s: r for s, r in (measured.rollout or {}).items() if r.get("series")}
    if not sides:
        return None
    fig, axes = figure(len(sides), 1, height=HEIGHT_IN * 0.7 * len(sides), width=WIDTH_IN, squeeze=False)
    for ax, (side, rollout) in zip(axes[:, 0], sides.items(), strict=True):
        _rollout_panel(ax, side, rollout)
    return png(fig)


CHARTS = (("Latency per concurrency level, both modes", latency_plot),
          ("Ready pods over time (footprint)", footprint_plot),
          ("Serverless cold start, by part", cold_start_plot),
          ("Rollout under traffic: failed requests and p99", rollout_plot))


def planned(scenario: ScenarioRun) -> list[tuple[str, Callable[[], bytes | None]]]:
    """(caption, draw) of every chart of every mode-compare step of ``scenario``: the report draws them in the
    scenario's section (kslab/report/plots.py)."""
    return [(f"{caption} — {step}", partial(draw, measured)) for step, measured in scenario.measurements
            if isinstance(measured, ModeComparison) for caption, draw in CHARTS]


def comparison_plots(scenario: ScenarioRun) -> list[tuple[str, bytes]]:
    """Every plot of every mode-compare step of ``scenario`` that has data, drawn."""
    drawn = [(caption, draw()) for caption, draw in planned(scenario)]
    return [(caption, image) for caption, image in drawn if image is not None]
