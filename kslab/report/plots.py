"""The report's plots as PNG bytes (matplotlib, Agg backend, imported only when a report is rendered).

Each function returns None when the run has no data for its plot, so a report never shows an empty chart.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial
from typing import Any

from kslab.report.summary import is_load_result, load_results, parse_time, profile_levels, step_rows

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


def latency_histogram(result: dict[str, Any], title: str) -> bytes | None:
    """Requests per latency bucket, from the run's exact HDR histogram (log-scaled latency axis)."""
    if not isinstance(result.get("histogram"), str):
        return None
    from kslab.load.histogram import decode

    histogram = decode(result["histogram"])
    points = [(item.value_iterated_to / 1000.0, item.count_added_in_this_iter_step)
              for item in histogram.get_recorded_iterator()]
    if not points:
        return None
    import numpy

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    values, counts = zip(*points, strict=True)
    low, high = min(values), max(values)
    edges = numpy.geomspace(low * 0.99, high * 1.01, HISTOGRAM_BINS + 1)  # equal widths on the log axis
    heights, _ = numpy.histogram(values, bins=edges, weights=counts)
    ax.stairs(heights, edges, fill=True, color="#1565c0")
    ax.set_xscale("log")
    latency = result.get("latency") or {}
    for key, style in (("p50_ms", ":"), ("p99_ms", "--")):
        if latency.get(key):
            ax.axvline(latency[key], color="#c62828", linestyle=style, label=key.replace("_ms", f" {latency[key]} ms"))
    ax.set(xlabel="latency (ms, log scale)", ylabel="requests", title=f"Latency histogram — {title}")
    ax.legend(loc="upper right", fontsize=8)
    return _png(fig)


def percentiles_over_time(result: dict[str, Any], title: str) -> bytes | None:
    series = [row for row in result.get("series") or [] if isinstance(row, dict) and "t" in row]
    if not any(row.get("p99_ms") is not None for row in series):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for index, step in enumerate(dict.fromkeys(row.get("step", 0) for row in series)):
        rows = [row for row in series if row.get("step", 0) == step]  # a profile level's seconds, one segment
        for key, colour in (("p50_ms", "#1565c0"), ("p99_ms", "#c62828")):
            ax.plot([row["t"] for row in rows], [row.get(key) for row in rows], marker=".", color=colour,
                    label=key.replace("_ms", "") if index == 0 else None)
    warm = [row["t"] for row in series if row.get("warmup")]
    if warm:
        ax.axvspan(min(warm), max(warm) + 1, color="#eeeeee", label="warm-up (excluded)")
    per_second: dict[int, int] = {}
    for row in series:
        per_second[row["t"]] = per_second.get(row["t"], 0) + (row.get("requests") or 0)
    rate = ax.twinx()
    rate.step(list(per_second), list(per_second.values()), where="post", color="#9e9e9e", linewidth=1)
    rate.set_ylabel("requests per second")
    ax.set(xlabel="second of the run", ylabel="latency (ms)", title=f"Percentiles over time — {title}")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def throughput_curve(result: dict[str, Any], title: str) -> bytes | None:
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


def replica_timeline(scenario: dict[str, Any]) -> bytes | None:
    """Ready and desired replicas per revision/deployment over the scenario, with the load it was under."""
    replicas = [r for r in (scenario.get("timelines") or {}).get("replicas") or [] if isinstance(r, dict)]
    if not replicas:
        return None
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.0))
    end = max([scenario.get("duration_s") or 0.0, *(r.get("t_s") or 0.0 for r in replicas)])
    for index, name in enumerate(dict.fromkeys(str(r.get("name")) for r in replicas)):
        rows = [r for r in replicas if str(r.get("name")) == name]
        times = [r.get("t_s") for r in rows] + [end]  # the last state holds until the scenario ended
        colour = f"C{index}"
        ax.step(times, [r.get("ready") for r in rows] + [rows[-1].get("ready")], where="post", color=colour,
                label=f"{name} ready")
        ax.step(times, [r.get("desired") for r in rows] + [rows[-1].get("desired")], where="post", color=colour,
                linestyle="--", alpha=0.6, label=f"{name} desired")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    start = parse_time(scenario.get("started_at"))
    steps = {s.get("name"): s for s in scenario.get("steps") or [] if isinstance(s, dict)}
    load_axis = None
    for load in scenario.get("load") or []:
        if not is_load_result(load):
            continue
        step_start = parse_time((steps.get(load.get("step")) or {}).get("started_at"))
        offset = (step_start - start).total_seconds() if start and step_start else 0.0
        series = [row for row in load.get("series") or [] if isinstance(row, dict)]
        load_axis = load_axis or ax.twinx()
        load_axis.fill_between([offset + row.get("t", 0) for row in series],
                               [row.get("requests") or 0 for row in series], step="post", alpha=0.2,
                               color="#9e9e9e", label=f"load {load.get('step')}")
    if load_axis is not None:
        load_axis.set_ylabel("requests per second")
    for event in scenario.get("events") or []:
        if isinstance(event, dict) and isinstance(event.get("t_s"), int | float):
            ax.axvline(event["t_s"], color="#757575", linewidth=0.8, linestyle=":")
    ax.set(xlabel="seconds since the scenario started (dotted: events)", ylabel="replicas",
           title=f"Replicas over time — {scenario.get('name')}")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return _png(fig)


def canary_split(scenario: dict[str, Any]) -> bytes | None:
    """Configured against observed traffic share per revision, for each traffic-split measurement."""
    splits = [(str(s.get("name")), s["observations"]) for s in scenario.get("steps") or [] if isinstance(s, dict)
              and isinstance(s.get("observations"), dict) and isinstance(s["observations"].get("revisions"), dict)]
    if not splits:
        return None
    revisions = list(dict.fromkeys(rev for _, obs in splits for rev in obs["revisions"]))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    width = 0.8 / (2 * len(revisions))
    for index, revision in enumerate(revisions):
        for kind, offset, style in (("configured", 0, {"alpha": 0.35}), ("observed", 1, {})):
            xs = [group + (2 * index + offset) * width - 0.4 + width / 2 for group in range(len(splits))]
            values = [(obs["revisions"].get(revision) or {}).get(f"{kind}_percent") or 0 for _, obs in splits]
            ax.bar(xs, values, width=width, color=f"C{index}", label=f"{revision} {kind}", **style)
    ax.set_xticks(list(range(len(splits))), [name[:28] for name, _ in splits], fontsize=8)
    ax.set(ylabel="% of requests", ylim=(0, 105),
           title=f"Canary split — {scenario.get('name')} (configured pale, observed solid)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    return _png(fig)


def step_durations(record: dict[str, Any]) -> bytes | None:
    rows = [r for r in step_rows(record) if r["offset_s"] is not None][:MAX_STEPS]
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


def all_plots(record: dict[str, Any]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(caption, PNG) for every plot the run has data for, in report order, and the plots that could not be
    drawn from a malformed record (each with the reason): a bad field costs its plot, never the report."""
    planned: list[tuple[str, Callable[[], bytes | None]]] = []
    for load in load_results(record):
        result, key = load["result"], load["key"]
        planned += [(f"Latency histogram — {key}", partial(latency_histogram, result, key)),
                    (f"Percentiles over time — {key}", partial(percentiles_over_time, result, key)),
                    (f"Throughput against concurrency — {key}", partial(throughput_curve, result, key))]
    for scenario in record.get("scenarios") or []:
        if isinstance(scenario, dict):
            planned += [(f"Replicas over time — {scenario.get('name')}", partial(replica_timeline, scenario)),
                        (f"Canary split — {scenario.get('name')}", partial(canary_split, scenario))]
    planned.append(("Step durations", partial(step_durations, record)))
    drawn: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for caption, draw in planned:
        try:
            png = draw()
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
            _pyplot().close("all")
            problems.append(f"{caption}: not drawn ({type(exc).__name__}: {exc})")
            continue
        if png is not None:
            drawn.append((caption, png))
    return drawn, problems
