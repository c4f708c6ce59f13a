"""A load result's charts: the latency distribution (per level for a profile run, the exact HDR histogram for a
single-level run), p50/p99 and the request rate second by second with the level changes marked, and throughput
and latency per level on axes scaled to the data.

Each function returns None when the result has no data for its chart, so a report never shows an empty one.
"""

from __future__ import annotations

from typing import Any

from kslab.models.entries import Latency, LoadResult, SeriesRow
from kslab.report.charts import P50, P99, RATE, WIDE_IN, figure, level_label, mark_levels, plain_log, png, shade_warmup

HISTOGRAM_BINS = 60
PERCENTILES = (("min", "min_ms"), ("p50", "p50_ms"), ("p90", "p90_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"),
               ("p99.9", "p99_9_ms"), ("max", "max_ms"))


def is_profile(result: LoadResult) -> bool:
    return len(result.steps or ()) > 1


def _decode(histogram: str) -> Any:
    from kslab.load.histogram import decode

    try:
        return decode(histogram)
    except Exception as exc:  # hdrh has exception types of its own for a corrupt payload
        raise ValueError(f"the histogram does not decode: {exc}") from None


def latency_histogram(result: LoadResult, title: str) -> bytes | None:
    """Requests per latency bucket of a single-level run, from its exact HDR histogram (log latency axis).
    A profile run's histogram mixes its levels, so it gets level_distributions instead."""
    if result.histogram is None or is_profile(result):
        return None
    points = [(item.value_iterated_to / 1000.0, item.count_added_in_this_iter_step)
              for item in _decode(result.histogram).get_recorded_iterator()]
    if not points:
        return None
    import numpy

    fig, ax = figure()
    values, counts = zip(*points, strict=True)
    edges = numpy.geomspace(min(values) * 0.99, max(values) * 1.01, HISTOGRAM_BINS + 1)  # equal widths on log axis
    heights, _ = numpy.histogram(values, bins=edges, weights=counts)
    ax.stairs(heights, edges, fill=True, color=P50, alpha=0.8)
    ax.set_xscale("log")
    plain_log(ax.xaxis)
    latency = result.latency or Latency()
    for key, value, style in (("p50", latency.p50_ms, ":"), ("p99", latency.p99_ms, "--")):
        if value:
            ax.axvline(value, color=P99, linestyle=style, label=f"{key} {value:g} ms")
    ax.set(xlabel="latency (ms, log scale)", ylabel="requests per bucket",
           title=f"Latency histogram — {title} ({latency.count or 0} requests)")
    ax.legend(loc="upper right")
    return png(fig)


def level_distributions(result: LoadResult, title: str) -> bytes | None:
    """Each profile level's latency at min, p50 … p99.9, max: one line per level (log latency axis)."""
    levels = [(index, level) for index, level in enumerate(result.steps or ())
              if level.latency is not None and level.latency.p50_ms is not None]
    if not is_profile(result) or not levels:
        return None
    fig, ax = figure()
    from matplotlib import colormaps

    shades = colormaps["viridis"]
    lines = []
    for order, (index, level) in enumerate(levels):
        assert level.latency is not None
        colour = shades(0.85 * order / max(len(levels) - 1, 1))  # dark to light: low to high concurrency
        lines.append((f"{level_label(result, index)} ({level.requests or 0} requests)", level.latency, colour))
    percentile_lines(ax, lines)
    ax.set(xlabel="percentile of the level's requests", title=f"Latency distribution per concurrency level — {title}")
    return png(fig)


def percentile_lines(ax: Any, lines: list[tuple[str, Latency, Any]]) -> None:
    """One line per (label, latency, colour) across min, p50 … max on a log latency axis, legend top left."""
    xs = list(range(len(PERCENTILES)))
    for label, latency, colour in lines:
        values = [getattr(latency, key) for _, key in PERCENTILES]
        ax.plot([x for x, v in zip(xs, values, strict=True) if v is not None], [v for v in values if v is not None],
                marker="o", color=colour, label=label)
    ax.set_yscale("log")
    plain_log(ax.yaxis)
    ax.set_xticks(xs, [name for name, _ in PERCENTILES])
    ax.set(ylabel="latency (ms, log scale)")
    ax.legend(loc="upper left")


def _levels_of(series: tuple[SeriesRow, ...]) -> dict[int, list[SeriesRow]]:
    out: dict[int, list[SeriesRow]] = {}
    for row in series:
        out.setdefault(row.step or 0, []).append(row)
    return out


def percentiles_over_time(result: LoadResult, title: str) -> bytes | None:
    """p50 and p99 of each second (top, log scale) over the requests of each second (bottom), the warm-up shaded
    and each level change marked."""
    series = result.series or ()
    if not any(row.p99_ms is not None for row in series):
        return None
    fig, (top, bottom) = figure(2, 1, height=5.6, width=WIDE_IN, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    shade_warmup([top, bottom], series)
    for order, rows in enumerate(_levels_of(series).values()):  # one segment per level: no line across a change
        for key, colour in (("p50", P50), ("p99", P99)):
            points = [(row.t + 0.5, getattr(row, f"{key}_ms")) for row in rows if getattr(row, f"{key}_ms")]
            if points:
                top.plot(*zip(*points, strict=True), marker=".", color=colour, label=key if order == 0 else None)
    top.set_yscale("log")
    plain_log(top.yaxis)
    top.set(ylabel="latency (ms, log)", title=f"Latency and request rate, second by second — {title}")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    per_second: dict[int, int] = {}
    for row in series:
        per_second[row.t] = per_second.get(row.t, 0) + (row.requests or 0)
    bottom.bar([t + 0.5 for t in per_second], list(per_second.values()), width=0.9, color=RATE, alpha=0.6)
    bottom.set(xlabel="second of the run (dashed: the next concurrency level starts)", ylabel="requests / s")
    bottom.set_ylim(0, max(per_second.values(), default=1) * 1.3 or 1)
    if is_profile(result):
        mark_levels([top, bottom], result, bottom)
    return png(fig)


def _bar_labels(ax: Any, bars: Any, unit: str) -> None:
    ax.bar_label(bars, labels=[f"{bar.get_height():,.0f}{unit}" if bar.get_height() >= 100
                               else f"{bar.get_height():.3g}{unit}" for bar in bars], padding=2, fontsize=9)


def throughput_per_level(result: LoadResult, title: str) -> bytes | None:
    """Throughput per level (left) and p50/p99 per level (right), each on its own axis from zero to the data."""
    levels = [(index, lv) for index, lv in enumerate(result.steps or ()) if lv.throughput_rps is not None]
    if len(levels) < 2:
        return None
    fig, (left, right) = figure(1, 2, height=4.4)
    names = [level_label(result, index) for index, _ in levels]
    xs = list(range(len(levels)))
    bars = left.bar(xs, [lv.throughput_rps for _, lv in levels], color=P50, width=0.6)
    _bar_labels(left, bars, "")
    left.set_ylim(0, max(lv.throughput_rps or 0 for _, lv in levels) * 1.18)
    left.set_xticks(xs, names)
    left.set(xlabel="concurrent connections", ylabel="requests per second", title="Throughput per level")
    width = 0.38
    for offset, (key, colour) in ((-width / 2, ("p50_ms", P50)), (width / 2, ("p99_ms", P99))):
        values = [(getattr(lv.latency, key) if lv.latency else None) or 0.0 for _, lv in levels]
        bars = right.bar([x + offset for x in xs], values, width=width, color=colour, label=key[:-3])
        _bar_labels(right, bars, "")
    right.set_ylim(top=right.get_ylim()[1] * 1.12)
    right.set_xticks(xs, names)
    right.set(xlabel="concurrent connections", ylabel="latency (ms)", title="p50 and p99 latency per level")
    right.legend(loc="upper left")
    fig.suptitle(f"Throughput and latency against concurrency — {title}", fontweight="bold")
    return png(fig)
