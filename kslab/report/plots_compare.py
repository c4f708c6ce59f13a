"""The comparison page's charts: the baseline and the current run drawn together, one chart per measure
(throughput per level, p99 per level, p50/p99 second by second, the latency distribution)."""

from __future__ import annotations

from functools import partial
from typing import Any

from kslab.models.entries import LoadResult
from kslab.report.charts import (
    BASELINE,
    CURRENT,
    WIDE_IN,
    draw_safely,
    figure,
    level_label,
    mark_levels,
    plain_log,
    png,
)
from kslab.report.plots_load import percentile_lines

Runs = list[tuple[str, LoadResult]]  # (label, result): the baseline first


def _colour(index: int) -> str:
    return BASELINE if index == 0 else CURRENT


def _per_level(runs: Runs, read: Any, ylabel: str, title: str) -> bytes | None:
    """Grouped bars per level, a bar per run; None unless both runs have the same two or more levels."""
    levels = [tuple(float(lv.level) for lv in result.steps or ()) for _, result in runs]
    if len(levels[0]) < 2 or levels[0] != levels[1]:
        return None
    fig, ax = figure(height=4.2)
    xs = list(range(len(levels[0])))
    width = 0.38
    for index, (label, result) in enumerate(runs):
        values = [read(lv) or 0.0 for lv in result.steps or ()]
        bars = ax.bar([x + (index - 0.5) * width for x in xs], values, width=width, color=_colour(index),
                      label=label)
        ax.bar_label(bars, labels=[f"{v:,.0f}" if v >= 100 else f"{v:.3g}" for v in values], fontsize=8, padding=2)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.set_xticks(xs, [level_label(runs[0][1], i) for i in xs])
    ax.set(xlabel="concurrent connections", ylabel=ylabel, title=title)
    ax.legend(loc="upper left")
    return png(fig)


def throughput_per_level(runs: Runs, key: str) -> bytes | None:
    return _per_level(runs, lambda lv: lv.throughput_rps, "requests per second", f"Throughput per level — {key}")


def p99_per_level(runs: Runs, key: str) -> bytes | None:
    return _per_level(runs, lambda lv: lv.latency.p99_ms if lv.latency else None, "p99 latency (ms)",
                      f"p99 latency per level — {key}")


def distribution(runs: Runs, key: str) -> bytes | None:
    """min, p50 … max of each run's totals: one line per run (log latency axis)."""
    if any(result.latency is None or result.latency.p50_ms is None for _, result in runs):
        return None
    fig, ax = figure(height=4.2)
    percentile_lines(ax, [(label, result.latency, _colour(index)) for index, (label, result) in enumerate(runs)
                          if result.latency is not None])
    ax.set(xlabel="percentile of all requests after warm-up", title=f"Latency distribution — {key}")
    return png(fig)


def over_time(runs: Runs, key: str) -> bytes | None:
    """Each run's p99 second by second (top) and requests per second (bottom) on the same time axis."""
    if not all(any(row.p99_ms is not None for row in result.series or ()) for _, result in runs):
        return None
    fig, (top, bottom) = figure(2, 1, height=5.6, width=WIDE_IN, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for index, (label, result) in enumerate(runs):
        rows = [row for row in result.series or () if not row.warmup]
        by_second: dict[int, int] = {}
        for row in rows:
            by_second[row.t] = by_second.get(row.t, 0) + (row.requests or 0)
        for order, level in enumerate(dict.fromkeys(row.step or 0 for row in rows)):  # no line across a change
            points = [(row.t + 0.5, row.p99_ms) for row in rows if row.p99_ms and (row.step or 0) == level]
            if points:
                top.plot(*zip(*points, strict=True), marker=".", color=_colour(index),
                         label=f"{label} p99" if order == 0 else None)
        bottom.step([t + 0.5 for t in by_second], list(by_second.values()), where="mid", color=_colour(index),
                    label=label)
    top.set_yscale("log")
    plain_log(top.yaxis)
    top.set(ylabel="p99 of the second (ms, log)", title=f"p99 and request rate, second by second — {key}")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    bottom.set_ylim(0, bottom.get_ylim()[1] * 1.3)
    bottom.set(xlabel="second of the run, warm-up left out (dashed: the next concurrency level starts)",
               ylabel="requests / s")
    if len(runs[-1][1].steps or ()) > 1:
        mark_levels([top, bottom], runs[-1][1], bottom)
    return png(fig)


def compare_plots(runs: Runs, key: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(caption, PNG) of every chart both runs have data for, and the charts that could not be drawn."""
    drawn, problems = [], []
    for caption, draw in ((f"Throughput per level — {key}", throughput_per_level),
                          (f"p99 per level — {key}", p99_per_level), (f"Latency distribution — {key}", distribution),
                          (f"Second by second — {key}", over_time)):
        image, problem = draw_safely(caption, partial(draw, runs, key))
        problems += [problem] if problem else []
        drawn += [(caption, image)] if image is not None else []
    return drawn, problems
