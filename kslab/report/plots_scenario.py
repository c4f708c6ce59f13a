"""A scenario's charts, on the scenario's own clock (seconds since it started): replicas per revision with the
load it was under, the configured traffic split over time with the observed shares, the configured against
observed split of each traffic-split measurement, and the parts of each cold start.

Each function returns None when the scenario has no data for its chart.
"""

from __future__ import annotations

from typing import Any

from kslab.models.entries import ColdStart, ReplicaChange, ScenarioEntry, TrafficSplit
from kslab.report.charts import RATE, figure, png
from kslab.report.record import ScenarioRun
from kslab.report.summary import parse_time


def _events(axes: list[Any], entry: ScenarioEntry) -> None:
    """A dotted line at each event, labelled once on the first axis."""
    for event in entry.events or ():
        for ax in axes:
            ax.axvline(event.t_s, color=RATE, linewidth=1, linestyle=":")
        axes[0].annotate(event.label[:32], xy=(event.t_s, 1.0), xycoords=("data", "axes fraction"),
                         xytext=(3, -12), textcoords="offset points", fontsize=8, color=RATE)


def _step_offset(entry: ScenarioEntry, step_name: str | None) -> float | None:
    """Seconds from the scenario's start to the start of its step ``step_name``."""
    step = next((s for s in entry.steps or () if s.name == step_name), None)
    if step is None:
        return None
    if step.t_s is not None:
        return step.t_s
    start, begun = parse_time(entry.started_at), parse_time(step.started_at)
    return (begun - start).total_seconds() if start and begun else None


def _replica_steps(ax: Any, replicas: tuple[ReplicaChange, ...], end: float) -> None:
    """Ready (solid) and desired (dashed) replicas per Deployment; the last state holds until ``end``."""
    for index, name in enumerate(dict.fromkeys(r.name for r in replicas)):
        rows = [r for r in replicas if r.name == name]
        times = [r.t_s for r in rows] + [end]
        colour = f"C{index}"
        ax.step(times, [r.ready for r in rows] + [rows[-1].ready], where="post", color=colour, linewidth=2,
                label=f"{name} ready")
        ax.step(times, [r.desired for r in rows] + [rows[-1].desired], where="post", color=colour,
                linestyle="--", alpha=0.7, label=f"{name} desired")


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
    from matplotlib.ticker import MaxNLocator

    with_load = any(load.measured and load.series for load in entry.load or ())
    fig, axes = figure(2 if with_load else 1, 1, height=5.4 if with_load else 4.0, sharex=True, squeeze=False)
    top = axes[0][0]
    _replica_steps(top, replicas, max([entry.duration_s or 0.0, *(r.t_s for r in replicas)]))
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_ylim(bottom=0)
    top.set(ylabel="replicas", title=f"Replicas over time — {entry.name}")
    top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    every = [top]
    if with_load:
        bottom = axes[1][0]
        _load_under(bottom, entry)
        bottom.set(ylabel="requests / s")
        bottom.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        every.append(bottom)
    every[-1].set_xlabel("seconds since the scenario started (dotted: events)")
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
    fig, ax = figure(height=4.0)
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
    ax.set(xlabel="seconds since the scenario started (dotted: events)", ylabel="% of requests",
           title=f"Traffic split over time — {entry.name}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _events([ax], entry)
    return png(fig)


def canary_split(scenario: ScenarioRun) -> bytes | None:
    """Configured against observed traffic share per revision, for each traffic-split measurement."""
    splits = [(name, obs) for name, obs in scenario.measurements if isinstance(obs, TrafficSplit)]
    if not splits:
        return None
    revisions = list(dict.fromkeys(rev for _, obs in splits for rev in obs.revisions))
    fig, ax = figure(height=4.0)
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
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return png(fig)


def cold_start_parts(scenario: ScenarioRun) -> bytes | None:
    """Each cold start as a bar from sending the request to its answer, split at each milestone the pod reached."""
    starts = [(name, obs) for name, obs in scenario.measurements if isinstance(obs, ColdStart)]
    if not starts:
        return None
    fig, ax = figure(height=max(2.6, 1.0 + 0.8 * len(starts)))
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
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return png(fig)
