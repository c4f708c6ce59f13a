"""The report's plots as PNG bytes (matplotlib, Agg backend, imported only when a report is rendered).

Each function returns None when the run has no data for its plot, so a report never shows an empty chart.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from kslab.models.entries import Latency, LoadResult, ReplicaChange, ScenarioEntry, SeriesRow, TrafficSplit
from kslab.report.record import RunView, ScenarioRun, read_run
from kslab.report.summary import parse_time, profile_levels, step_rows

MAX_STEPS = 60
HISTOGRAM_BINS = 60
COLOURS = {"ok": "#2e7d32", "passed": "#2e7d32", "failed": "#c62828", "error": "#c62828",
           "skipped": "#9e9e9e", "interrupted": "#ef6c00", "running": "#ef6c00"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    _pyplot().close(fig)
    return buffer.getvalue()


def _decode(histogram: str) -> Any:
    from kslab.load.histogram import decode

    try:
        return decode(histogram)
    except Exception as exc:  # hdrh has exception types of its own for a corrupt payload
        raise ValueError(f"the histogram does not decode: {exc}") from None


def latency_histogram(result: LoadResult, title: str) -> bytes | None:
    """Requests per latency bucket, from the run's exact HDR histogram (log-scaled latency axis)."""
    if result.histogram is None:
        return None
    points = [(item.value_iterated_to / 1000.0, item.count_added_in_this_iter_step)
              for item in _decode(result.histogram).get_recorded_iterator()]
    if not points:
        return None
    import numpy

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    values, counts = zip(*points, strict=True)
    edges = numpy.geomspace(min(values) * 0.99, max(values) * 1.01, HISTOGRAM_BINS + 1)  # equal widths on log axis
    heights, _ = numpy.histogram(values, bins=edges, weights=counts)
    ax.stairs(heights, edges, fill=True, color="#1565c0")
    ax.set_xscale("log")
    latency = result.latency or Latency()
    for key, value, style in (("p50", latency.p50_ms, ":"), ("p99", latency.p99_ms, "--")):
        if value:
            ax.axvline(value, color="#c62828", linestyle=style, label=f"{key} {value} ms")
    ax.set(xlabel="latency (ms, log scale)", ylabel="requests", title=f"Latency histogram — {title}")
    ax.legend(loc="upper right", fontsize=8)
    return _png(fig)


def _percentile_lines(ax: Any, series: tuple[SeriesRow, ...]) -> None:
    """p50 and p99 per second, one segment per profile level."""
    for index, level in enumerate(dict.fromkeys(row.step or 0 for row in series)):
        rows = [row for row in series if (row.step or 0) == level]
        for key, colour in (("p50", "#1565c0"), ("p99", "#c62828")):
            ax.plot([row.t for row in rows], [getattr(row, f"{key}_ms") for row in rows], marker=".", color=colour,
                    label=key if index == 0 else None)


def _request_rate(ax: Any, series: tuple[SeriesRow, ...]) -> None:
    """Requests per second on a second axis, and the warm-up seconds shaded."""
    warm = [row.t for row in series if row.warmup]
    if warm:
        ax.axvspan(min(warm), max(warm) + 1, color="#eeeeee", label="warm-up (excluded)")
    per_second: dict[int, int] = {}
    for row in series:
        per_second[row.t] = per_second.get(row.t, 0) + (row.requests or 0)
    rate = ax.twinx()
    rate.step(list(per_second), list(per_second.values()), where="post", color="#9e9e9e", linewidth=1)
    rate.set_ylabel("requests per second")


def percentiles_over_time(result: LoadResult, title: str) -> bytes | None:
    series = result.series or ()
    if not any(row.p99_ms is not None for row in series):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    _percentile_lines(ax, series)
    _request_rate(ax, series)
    ax.set(xlabel="second of the run", ylabel="latency (ms)", title=f"Percentiles over time — {title}")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def throughput_curve(result: LoadResult, title: str) -> bytes | None:
    levels = [lv for lv in profile_levels(result) if lv["throughput_rps"] is not None]
    if len(levels) < 2:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    xs = [lv["level"] for lv in levels]
    ax.plot(xs, [lv["throughput_rps"] for lv in levels], marker="o", color="#1565c0", label="throughput")
    ideal = levels[0]["throughput_rps"] / levels[0]["level"]
    ax.plot(xs, [ideal * x for x in xs], linestyle=":", color="#9e9e9e", label="linear")
    latency = ax.twinx()
    latency.plot(xs, [lv["p99_ms"] for lv in levels], marker="s", color="#c62828", label="p99")
    latency.set_ylabel("p99 latency (ms)")
    ax.set(xlabel="concurrent connections", ylabel="requests per second",
           title=f"Throughput against concurrency — {title}")
    handles = ax.get_legend_handles_labels()[0] + latency.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=8)
    return _png(fig)


def _replica_steps(ax: Any, replicas: tuple[ReplicaChange, ...], end: float) -> None:
    """Ready (solid) and desired (dashed) replicas per Deployment; the last state holds until ``end``."""
    for index, name in enumerate(dict.fromkeys(r.name for r in replicas)):
        rows = [r for r in replicas if r.name == name]
        times = [r.t_s for r in rows] + [end]
        colour = f"C{index}"
        ax.step(times, [r.ready for r in rows] + [rows[-1].ready], where="post", color=colour, label=f"{name} ready")
        ax.step(times, [r.desired for r in rows] + [rows[-1].desired], where="post", color=colour,
                linestyle="--", alpha=0.6, label=f"{name} desired")


def _load_under(ax: Any, entry: ScenarioEntry) -> None:
    """Each traffic step's requests per second, shaded on a second axis, from when its step started."""
    start = parse_time(entry.started_at)
    steps = {s.name: s for s in entry.steps or ()}
    load_axis = None
    for load in entry.load or ():
        if not load.measured:
            continue
        step = steps.get(load.step) if load.step is not None else None
        step_start = parse_time(step.started_at if step else None)
        offset = (step_start - start).total_seconds() if start and step_start else 0.0
        series = load.series or ()
        load_axis = load_axis or ax.twinx()
        load_axis.fill_between([offset + row.t for row in series], [row.requests or 0 for row in series],
                               step="post", alpha=0.2, color="#9e9e9e", label=f"load {load.step}")
    if load_axis is not None:
        load_axis.set_ylabel("requests per second")


def replica_timeline(scenario: ScenarioRun) -> bytes | None:
    """Ready and desired replicas per revision/deployment over the scenario, with the load it was under."""
    entry = scenario.entry
    replicas = (entry.timelines.replicas if entry.timelines else None) or ()
    if not replicas:
        return None
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.0))
    _replica_steps(ax, replicas, max([entry.duration_s or 0.0, *(r.t_s for r in replicas)]))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _load_under(ax, entry)
    for event in entry.events or ():
        ax.axvline(event.t_s, color="#757575", linewidth=0.8, linestyle=":")
    ax.set(xlabel="seconds since the scenario started (dotted: events)", ylabel="replicas",
           title=f"Replicas over time — {entry.name}")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return _png(fig)


def canary_split(scenario: ScenarioRun) -> bytes | None:
    """Configured against observed traffic share per revision, for each traffic-split measurement."""
    splits = [(name, obs) for name, obs in scenario.measurements if isinstance(obs, TrafficSplit)]
    if not splits:
        return None
    revisions = list(dict.fromkeys(rev for _, obs in splits for rev in obs.revisions))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    width = 0.8 / (2 * len(revisions))
    for index, revision in enumerate(revisions):
        for kind, offset, style in (("configured", 0, {"alpha": 0.35}), ("observed", 1, {})):
            xs = [group + (2 * index + offset) * width - 0.4 + width / 2 for group in range(len(splits))]
            shares = [obs.revisions.get(revision) for _, obs in splits]
            values = [(getattr(share, f"{kind}_percent") if share else None) or 0 for share in shares]
            ax.bar(xs, values, width=width, color=f"C{index}", label=f"{revision} {kind}", **style)
    ax.set_xticks(list(range(len(splits))), [name[:28] for name, _ in splits], fontsize=8)
    ax.set(ylabel="% of requests", ylim=(0, 105),
           title=f"Canary split — {scenario.entry.name} (configured pale, observed solid)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    return _png(fig)


def step_durations(run: RunView) -> bytes | None:
    rows = [r for r in step_rows(run) if r["offset_s"] is not None][:MAX_STEPS]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.22 * len(rows) + 1)))
    ys = range(len(rows))
    ax.barh(list(ys), [r["duration_s"] or 0.0 for r in rows], left=[r["offset_s"] for r in rows],
            color=[COLOURS.get(r["result"], "#616161") for r in rows])
    ax.set_yticks(list(ys), [r["name"][:40] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel="seconds since the run started", title="Step durations (green ok, red failed, grey skipped)")
    return _png(fig)


def planned_plots(run: RunView) -> list[tuple[str, Callable[[], bytes | None]]]:
    """Every plot the report could show, in report order, as (caption, draw)."""
    planned: list[tuple[str, Callable[[], bytes | None]]] = []
    for load in run.loads:
        result, key = load.result, load.key
        planned += [(f"Latency histogram — {key}", partial(latency_histogram, result, key)),
                    (f"Percentiles over time — {key}", partial(percentiles_over_time, result, key)),
                    (f"Throughput against concurrency — {key}", partial(throughput_curve, result, key))]
    for scenario in run.scenarios:
        name = scenario.entry.name
        planned += [(f"Replicas over time — {name}", partial(replica_timeline, scenario)),
                    (f"Canary split — {name}", partial(canary_split, scenario))]
    return [*planned, ("Step durations", partial(step_durations, run))]


def all_plots(record: Mapping[str, Any] | RunView) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(caption, PNG) for every plot the run has data for, in report order, and the plots that could not be
    drawn (each with the reason): data the entries' types allow but a plot cannot use (a histogram that does
    not decode, say) costs its plot, never the report."""
    drawn: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for caption, draw in planned_plots(read_run(record)):
        try:
            png = draw()
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            _pyplot().close("all")
            problems.append(f"{caption}: not drawn ({type(exc).__name__}: {exc})")
            continue
        if png is not None:
            drawn.append((caption, png))
    return drawn, problems
