"""A scenario's charts, on the scenario's own clock (seconds since it started): replicas per revision with the
load it was under, the configured traffic split over time with the observed shares, the configured against
observed split of each traffic-split measurement, and the parts of each cold start.

Each function returns None when the scenario has no data for its chart.
"""

from __future__ import annotations

from typing import Any

from kslab.models.entries import ColdStart, ReplicaChange, ScenarioEntry, TrafficSplit
from kslab.report.charts import RATE, figure, integer_axis, legend_below, png
from kslab.report.record import ScenarioRun
from kslab.report.summary import parse_time


def _events(axes: list[Any], entry: ScenarioEntry) -> None:
    """A dotted line at each event on every axis and, on the first, the event's number as the table 'Conditions
    and events' lists it: events too close to number apart share one label ('3-5'), so labels never overlap."""
    events = sorted(enumerate(entry.events or (), 1), key=lambda pair: pair[1].t_s)
    for _, event in events:
        for ax in axes:
            ax.axvline(event.t_s, color=RATE, linewidth=1, linestyle=":")
    if not events:
        return
    top = axes[0]
    top.figure.tight_layout()  # label widths are measured on the laid-out figure
    renderer = top.figure.canvas.get_renderer()
    label, first, last = None, 0, 0
    for number, event in events:
        if label is not None:
            ahead = label.get_window_extent(renderer).x1 + 4  # px: a gap between two labels
            if top.transData.transform((event.t_s, 0))[0] < ahead:
                last = number
                label.set_text(f"{first}-{last}")
                continue
        first = last = number
        label = top.annotate(str(number), xy=(event.t_s, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -11),
                             textcoords="offset points", fontsize=8, color=RATE)


def event_axis_label(entry: ScenarioEntry) -> str:
    """The x label of a scenario timeline: what the dotted lines and their numbers are."""
    marked = " (dotted: events, numbered as in 'Conditions and events')" if entry.events else ""
    return f"seconds since the scenario started{marked}"


def short_names(names: list[str]) -> tuple[dict[str, str], str]:
    """Each name without the dash-separated words every name starts with and without 'predictor'/'deployment'
    ('00001' for sklearn-iris-predictor-00001-deployment beside ...-00002-deployment), and the words dropped in
    front; the full names when the short ones would collide."""
    words = [name.split("-") for name in names]
    common = 0
    while len(names) > 1 and all(len(w) > common + 1 and w[common] == words[0][common] for w in words):
        common += 1
    short = {name: "-".join([x for x in w[common:] if x not in ("predictor", "deployment")] or w[common:])
             for name, w in zip(names, words, strict=True)}
    if len(set(short.values())) < len(names):
        return {name: name for name in names}, ""
    return short, "-".join(words[0][:common])


def _step_offset(entry: ScenarioEntry, step_name: str | None) -> float | None:
    """Seconds from the scenario's start to the start of its step ``step_name``."""
    step = next((s for s in entry.steps or () if s.name == step_name), None)
    if step is None:
        return None
    if step.t_s is not None:
        return step.t_s
    start, begun = parse_time(entry.started_at), parse_time(step.started_at)
    return (begun - start).total_seconds() if start and begun else None


def _replica_steps(ax: Any, replicas: tuple[ReplicaChange, ...], end: float) -> tuple[list[Any], list[str], str]:
    """Ready (solid) and desired (dashed) replicas per Deployment, the last state holding until ``end``; the
    legend's handles and labels (colour: Deployment by its short name; line style: ready or desired) and its title."""
    from matplotlib.lines import Line2D

    names = list(dict.fromkeys(r.name for r in replicas))
    short, prefix = short_names(names)
    handles, labels = [], []
    for index, name in enumerate(names):
        rows = [r for r in replicas if r.name == name]
        times = [r.t_s for r in rows] + [end]
        colour = f"C{index}"
        handles += ax.step(times, [r.ready for r in rows] + [rows[-1].ready], where="post", color=colour,
                           linewidth=2)
        ax.step(times, [r.desired for r in rows] + [rows[-1].desired], where="post", color=colour,
                linestyle="--", alpha=0.7)
        labels.append(short[name])
    handles += [Line2D([], [], color="black", linewidth=2), Line2D([], [], color="black", linestyle="--")]
    labels += ["ready", "desired"]
    return handles, labels, f"colour: Deployment {prefix}-…   line: replicas" if prefix else "colour: Deployment"


def _load_under(ax: Any, entry: ScenarioEntry) -> bool:
    """Each traffic step's requests per second, from when its step started; False when there was none."""
    drawn = False
    for load in entry.load or ():
        if not load.measured or not load.series:
            continue
        offset = _step_offset(entry, load.step) or 0.0
        ax.fill_between([offset + row.t for row in load.series], [row.requests or 0 for row in load.series],
                        step="post", alpha=0.35, color=RATE, label=f"load: {load.step}")
        drawn = True
    return drawn


def replica_timeline(scenario: ScenarioRun) -> bytes | None:
    """Ready and desired replicas per revision/deployment (top) and the load the scenario drove (bottom)."""
    entry = scenario.entry
    replicas = (entry.timelines.replicas if entry.timelines else None) or ()
    if not replicas:
        return None
    with_load = any(load.measured and load.series for load in entry.load or ())
    fig, axes = figure(2 if with_load else 1, 1, height=6.6 if with_load else 5.0, sharex=True, squeeze=False)
    top = axes[0][0]
    handles, labels, title = _replica_steps(top, replicas, max([entry.duration_s or 0.0, *(r.t_s for r in replicas)]))
    integer_axis(top.yaxis)
    top.set_ylim(bottom=0)
    top.set_xlim(left=0)
    top.set(ylabel="replicas", title=f"Replicas over time — {entry.name}")
    every = [top]
    if with_load:
        bottom = axes[1][0]
        _load_under(bottom, entry)
        bottom.set(ylabel="requests / s")
        more, named = bottom.get_legend_handles_labels()
        handles, labels = handles + more, labels + named
        every.append(bottom)
    every[-1].set_xlabel(event_axis_label(entry))
    legend_below(every[-1], handles, labels, columns=6, title=title)
    _events(every, entry)
    return png(fig)


def traffic_timeline(scenario: ScenarioRun) -> bytes | None:
    """The traffic percent KServe routed to each revision over time (lines) and what each traffic-split
    measurement observed (dots at the time of its step)."""
    entry = scenario.entry
    changes = (entry.timelines.traffic if entry.timelines else None) or ()
    if not changes:
        return None
    revisions = list(dict.fromkeys(t.revisionName or "?" for c in changes for t in c.targets or ()))
    end = max([entry.duration_s or 0.0, *(c.t_s for c in changes)])
    fig, ax = figure(height=4.8)
    for index, revision in enumerate(revisions):
        shares = [next((t.percent or 0 for t in c.targets or () if (t.revisionName or "?") == revision), 0)
                  for c in changes]
        ax.step([c.t_s for c in changes] + [end], shares + shares[-1:], where="post", color=f"C{index}",
                linewidth=2, label=f"{revision} configured")
        for step, measured in scenario.measurements:
            share = measured.revisions.get(revision) if isinstance(measured, TrafficSplit) else None
            at = _step_offset(entry, step)
            if share is not None and share.observed_percent is not None and at is not None:
                ax.plot([at], [share.observed_percent], "o", color=f"C{index}", markersize=8,
                        markeredgecolor="black", label=f"{revision} observed ({step})")
    ax.set_ylim(0, 105)
    ax.set_xlim(0, end * 1.02 or 1)
    ax.set(xlabel=event_axis_label(entry), ylabel="% of requests", title=f"Traffic split over time — {entry.name}")
    legend_below(ax, columns=2)
    _events([ax], entry)
    return png(fig)


def canary_split(scenario: ScenarioRun) -> bytes | None:
    """Configured against observed traffic share per revision, for each traffic-split measurement."""
    splits = [(name, obs) for name, obs in scenario.measurements if isinstance(obs, TrafficSplit)]
    if not splits:
        return None
    revisions = list(dict.fromkeys(rev for _, obs in splits for rev in obs.revisions))
    fig, ax = figure(height=4.8)
    width = 0.8 / (2 * len(revisions))
    for index, revision in enumerate(revisions):
        for kind, offset, style in (("configured", 0, {"alpha": 0.35}), ("observed", 1, {})):
            xs = [group + (2 * index + offset) * width - 0.4 + width / 2 for group in range(len(splits))]
            shares = [obs.revisions.get(revision) for _, obs in splits]
            values = [(getattr(share, f"{kind}_percent") if share else None) or 0 for share in shares]
            bars = ax.bar(xs, values, width=width, color=f"C{index}", label=f"{revision} {kind}", **style)
            ax.bar_label(bars, labels=[f"{v:g} %" for v in values], fontsize=8, padding=2)
    ax.set_xticks(list(range(len(splits))), [name[:28] for name, _ in splits])
    ax.set(xlabel="traffic-split measurement (observe step)", ylabel="% of requests", ylim=(0, 110),
           title=f"Canary split — {scenario.entry.name}")
    legend_below(ax, columns=2)
    return png(fig)


def cold_start_parts(scenario: ScenarioRun) -> bytes | None:
    """Each cold start as a bar from sending the request to its answer, split at each milestone the pod reached."""
    starts = [(name, obs) for name, obs in scenario.measurements if isinstance(obs, ColdStart)]
    if not starts:
        return None
    fig, ax = figure(height=max(3.0, 1.6 + 0.8 * len(starts)))
    for row, (_, measured) in enumerate(starts):
        milestones = sorted((ms, part) for part, ms in measured.parts.items() if ms is not None)
        previous = 0.0
        for index, (ms, part) in enumerate(milestones):
            ax.barh(row, ms - previous, left=previous, color=f"C{index}", edgecolor="white", height=0.6,
                    label=f"{part.removesuffix('_ms')} at {ms:,.0f} ms" if row == 0 else None)
            previous = ms
    ax.set_yticks(list(range(len(starts))), [name[:30] for name, _ in starts])
    ax.invert_yaxis()
    ax.set(xlabel="ms from sending the first request after scale-to-zero",
           title=f"Cold start, part by part — {scenario.entry.name}")
    legend_below(ax, columns=4)
    return png(fig)
