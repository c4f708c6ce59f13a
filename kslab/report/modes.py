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

from kslab.models.entries import ModeComparison
from kslab.report.charts import HEIGHT_IN, WIDTH_IN, figure, png, pyplot
from kslab.report.record import ScenarioRun

COLOURS = {"serverless": "#1565c0", "raw": "#ef6c00"}


def latency_plot(measured: ModeComparison) -> bytes | None:
    if not measured.levels:
        return None
    fig, ax = figure()
    drawn = False
    for side, paths in measured.levels.items():
        for path, style in (("gateway", "-"), ("in_cluster", ":")):
            cells = sorted(((int(level), cell) for level, cell in (paths.get(path) or {}).items()), key=lambda x: x[0])
            for key, marker in (("p50_ms", "o"), ("p99_ms", "^")):
                points = [(level, cell[key], cell.get(key.replace("_ms", "_min_ms")),
                           cell.get(key.replace("_ms", "_max_ms")))
                          for level, cell in cells if cell.get(key) is not None]
                if not points:
                    continue
                xs, ys = [p[0] for p in points], [p[1] for p in points]
                low = [y - (p[2] if p[2] is not None else y) for p, y in zip(points, ys, strict=True)]
                high = [(p[3] if p[3] is not None else y) - y for p, y in zip(points, ys, strict=True)]
                ax.errorbar(xs, ys, yerr=[low, high], fmt=marker + style, color=COLOURS.get(side), capsize=3,
                            label=f"{side} {key[:-3]} ({path.replace('_', '-')})")
                drawn = True
    if not drawn:
        pyplot().close(fig)
        return None
    ax.set_xlabel("concurrency")
    ax.set_ylabel("ms (median of rounds, range)")
    ax.legend(fontsize=7)
    return png(fig)


def footprint_plot(measured: ModeComparison) -> bytes | None:
    if not measured.footprint or not any(measured.footprint.values()):
        return None
    fig, ax = figure(height=HEIGHT_IN * 0.8)
    for side, series in measured.footprint.items():
        if series:
            ax.step([p[0] for p in series], [p[1] for p in series], where="post", color=COLOURS.get(side), label=side)
    ax.set_xlabel("scenario time (s)")
    ax.set_ylabel("ready pods")
    ax.legend(fontsize=8)
    return png(fig)


def cold_start_plot(measured: ModeComparison) -> bytes | None:
    parts = {k: v for k, v in (measured.cold_start or {}).items() if v is not None}
    if not parts:
        return None
    fig, ax = figure(height=HEIGHT_IN * 0.7)
    names = list(parts)
    ax.barh(names, [parts[n] for n in names], color=COLOURS["serverless"])
    ax.set_xlabel("ms from sending the first request (serverless; raw has no cold start)")
    ax.invert_yaxis()
    return png(fig)


def rollout_plot(measured: ModeComparison) -> bytes | None:
    sides = {s: r for s, r in (measured.rollout or {}).items() if r.get("series")}
    if not sides:
        return None
    fig, axes = figure(len(sides), 1, height=HEIGHT_IN * 0.7 * len(sides), width=WIDTH_IN, squeeze=False)
    for ax, (side, rollout) in zip(axes[:, 0], sides.items(), strict=True):
        series = rollout["series"]
        ts = [row.get("t") or 0 for row in series]
        ax.bar(ts, [row.get("errors") or 0 for row in series], color="#c62828", label="failed requests")
        twin = ax.twinx()
        twin.plot(ts, [row.get("p99_ms") for row in series], color=COLOURS.get(side), label="p99 ms")
        for key, label in (("patched_at_s", "version changed"), ("done_at_s", "serves 100 %")):
            if rollout.get(key) is not None:
                ax.axvline(rollout[key], color="#616161", linestyle="--")
                ax.annotate(label, (rollout[key], 0), fontsize=7, rotation=90, va="bottom")
        ax.set_title(f"{side} rollout", fontsize=9)
        ax.set_xlabel("s since the load started")
        ax.set_ylabel("failed")
        twin.set_ylabel("p99 ms")
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
