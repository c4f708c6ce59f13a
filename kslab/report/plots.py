"""The report's charts as PNG bytes, planned per page section (kslab/report/plots_load.py, plots_scenario.py;
the step durations here), and drawn so that data a chart cannot use costs that chart, never the report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from kslab.report import gates, modes, plots_load, plots_scenario
from kslab.report.charts import COLOURS, WIDE_IN, Plot, draw_safely, figure, png, seconds_log
from kslab.report.record import RunView, read_run
from kslab.report.summary import SMOKE_PREFIX, step_rows

MAX_STEPS = 60
Planned = tuple[str, str, Callable[[], bytes | None]]  # (section, caption, draw)


def _duration_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _step_bars(run: RunView) -> list[tuple[str, float, str]]:
    """(label, seconds, result) per step; the smoke checks are one bar (the table lists each)."""
    bars: list[tuple[str, float, str]] = []
    smoke = [r for r in step_rows(run) if r["name"].startswith(SMOKE_PREFIX) and r["duration_s"] is not None]
    for row in step_rows(run):
        if row["name"].startswith(SMOKE_PREFIX) or row["duration_s"] is None:
            continue
        bars.append((row["name"][:40], float(row["duration_s"]), row["result"]))
        if row["name"] == "ready" and smoke:
            bars.append(_smoke_bar(smoke))
            smoke = []
    return [*bars, *([_smoke_bar(smoke)] if smoke else [])][:MAX_STEPS]


def _smoke_bar(smoke: list[dict[str, Any]]) -> tuple[str, float, str]:
    failed = any(r["result"] != "ok" for r in smoke)
    return f"smoke checks ({len(smoke)})", sum(float(r["duration_s"]) for r in smoke), "failed" if failed else "ok"


def step_durations(run: RunView) -> bytes | None:
    """How long each step took, on a log axis (a 5 ms check and a 3-minute wait both readable), labelled."""
    bars = _step_bars(run)
    if not bars:
        return None
    fig, ax = figure(height=max(2.4, 0.32 * len(bars) + 1.2), width=WIDE_IN)
    ys = list(range(len(bars)))
    seconds = [max(s, 0.001) for _, s, _ in bars]
    drawn = ax.barh(ys, seconds, color=[COLOURS.get(result, "#616161") for _, _, result in bars], height=0.7)
    ax.bar_label(drawn, labels=[_duration_text(s) for _, s, _ in bars], padding=3, fontsize=9)
    ax.set_xscale("log")
    seconds_log(ax.xaxis)
    ax.set_xlim(right=max(seconds) * 4)
    ax.set_yticks(ys, [label for label, _, _ in bars])
    ax.invert_yaxis()
    ax.set(xlabel="seconds (log scale)", title="Step durations (green ok, red failed, grey skipped)")
    return png(fig)


def planned_plots(run: RunView) -> list[Planned]:
    """Every chart the report could show, in page order, as (section, caption, draw)."""
    planned: list[Planned] = []
    for load in run.loads:
        result, key, where = load.result, load.key, f"load:{load.key}"
        planned += [(where, f"Throughput and latency per level — {key}",
                     partial(plots_load.throughput_per_level, result, key)),
                    (where, f"Latency distribution per level — {key}",
                     partial(plots_load.level_distributions, result, key)),
                    (where, f"Latency histogram — {key}", partial(plots_load.latency_histogram, result, key)),
                    (where, f"Percentiles over time — {key}", partial(plots_load.percentiles_over_time, result, key))]
    for scenario in run.scenarios:
        name, where = scenario.entry.name, f"scenario:{scenario.entry.name}"
        planned += [(where, f"Traffic split over time — {name}", partial(plots_scenario.traffic_timeline, scenario)),
                    (where, f"Canary split — {name}", partial(plots_scenario.canary_split, scenario)),
                    (where, f"Replicas over time — {name}", partial(plots_scenario.replica_timeline, scenario)),
                    (where, f"Cold start — {name}", partial(plots_scenario.cold_start_parts, scenario)),
                    (where, f"Latency and hold-out accuracy per revision — {name}",
                     partial(gates.revision_plot, scenario)),
                    *((where, caption, draw) for caption, draw in modes.planned(scenario))]
    return [*planned, ("steps", "Step durations", partial(step_durations, run))]


def all_plots(record: Mapping[str, Any] | RunView) -> tuple[list[Plot], list[str]]:
    """Every chart the run has data for, in page order, and the charts that could not be drawn (each with the
    reason): data the entries' types allow but a chart cannot use (a histogram that does not decode, say)
    costs its chart, never the report."""
    drawn: list[Plot] = []
    problems: list[str] = []
    for section, caption, draw in planned_plots(read_run(record)):
        image, problem = draw_safely(caption, draw)
        if problem is not None:
            problems.append(problem)
        if image is not None:
            drawn.append(Plot(caption, image, section))
    return drawn, problems
