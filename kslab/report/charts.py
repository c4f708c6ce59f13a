"""What every report chart shares: matplotlib (Agg, imported only when a report is rendered), one size and
style, PNG output, and the marks a load chart puts on its time axis (warm-up, level changes)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kslab.models.entries import LoadResult, SeriesRow

WIDTH_IN, HEIGHT_IN, DPI = 9.0, 4.6, 110  # about 1000 x 500 px: sharp at the page's column width
WIDE_IN = 12.5  # a chart that spans the page (a time axis)
COLOURS = {"ok": "#2e7d32", "passed": "#2e7d32", "failed": "#c62828", "error": "#c62828",
           "skipped": "#9e9e9e", "interrupted": "#ef6c00", "running": "#ef6c00"}
P50, P99, RATE, GRID = "#1565c0", "#c62828", "#616161", "#e0e0e0"
BASELINE, CURRENT = "#757575", "#1565c0"  # a comparison's two runs


@dataclass(frozen=True)
class Plot:
    """A drawn chart: its caption, the PNG, and the page section it belongs to (``load:<key>``,
    ``scenario:<name>``, ``steps``)."""

    caption: str
    png: bytes
    section: str


def draw_safely(caption: str, draw: Callable[[], bytes | None]) -> tuple[bytes | None, str | None]:
    """(PNG or None, None), or (None, why it was not drawn): data the entries' types allow but a chart cannot use
    (a histogram that does not decode, say) costs its chart, never the page."""
    try:
        return draw(), None
    except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
        pyplot().close("all")
        return None, f"{caption}: not drawn ({type(exc).__name__}: {exc})"


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold", "axes.grid": True,
                         "grid.color": GRID, "axes.spines.top": False, "axes.spines.right": False,
                         "legend.frameon": False})
    return plt


def figure(rows: int = 1, cols: int = 1, height: float = HEIGHT_IN, width: float = WIDTH_IN,
           **kwargs: Any) -> tuple[Any, Any]:
    return pyplot().subplots(rows, cols, figsize=(width, height), **kwargs)


def png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    pyplot().close(fig)
    return buffer.getvalue()


def legend_below(ax: Any, handles: list[Any] | None = None, labels: list[str] | None = None, columns: int = 3,
                 title: str | None = None) -> None:
    """The legend under the axes' x label, in ``columns`` columns: it never covers the data nor sticks out of the
    figure (tight_layout makes room for it), however long the series' names."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if handles:
        from matplotlib.transforms import offset_copy

        under = offset_copy(ax.transAxes, fig=ax.figure, y=-36 if ax.get_xlabel() else -20, units="points")
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=under,
                  ncol=min(columns, len(handles)), fontsize=9, title=title, title_fontsize=9)


def integer_axis(axis: Any) -> None:
    """Whole-number ticks (pods, replicas, requests): never 0.5 of a pod."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def plain_log(axis: Any, unit: str = "") -> None:
    """Log-scale ticks as plain numbers (1, 10, 100 …, then 1,000) instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.{max(0, -math.floor(math.log10(v)))}f}{unit}"
                                           if v > 0 else ""))


def seconds_log(axis: Any) -> None:
    """Log-scale ticks in seconds read as '1 ms', '100 ms', '1 s', '10 s'."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: "" if v <= 0 else f"{v * 1000:g} ms" if v < 1
                                           else f"{v:g} s"))


def level_label(result: LoadResult, index: int) -> str:
    """'c=5' for a profile level's index (the connections it ran with), 'level 3' when the record lacks it."""
    levels = result.steps or ()
    if index < len(levels):
        value = levels[index].level
        return f"c={int(value) if float(value).is_integer() else value}"
    return f"level {index + 1}"


def level_starts(series: tuple[SeriesRow, ...]) -> list[tuple[int, int]]:
    """(first second, level index) of every level after the first."""
    starts: list[tuple[int, int]] = []
    seen: set[int] = set()
    for row in series:
        level = row.step or 0
        if level not in seen:
            seen.add(level)
            if len(seen) > 1:
                starts.append((row.t, level))
    return starts


def mark_levels(axes: list[Any], result: LoadResult, label_axis: Any) -> None:
    """A dashed line at each level change on every axis, labelled with the level on ``label_axis``."""
    series = result.series or ()
    first = (result.steps or ()) and series
    if first:
        label_axis.annotate(level_label(result, series[0].step or 0), xy=(series[0].t, 1.0),
                            xycoords=("data", "axes fraction"), xytext=(3, -12), textcoords="offset points",
                            fontsize=9, color=RATE)
    for second, level in level_starts(series):
        for ax in axes:
            ax.axvline(second, color=RATE, linestyle="--", linewidth=1)
        label_axis.annotate(level_label(result, level), xy=(second, 1.0), xycoords=("data", "axes fraction"),
                            xytext=(3, -12), textcoords="offset points", fontsize=9, color=RATE)


def shade_warmup(axes: list[Any], series: tuple[SeriesRow, ...]) -> None:
    warm = [row.t for row in series if row.warmup]
    for index, ax in enumerate(axes):
        if warm:
            ax.axvspan(min(warm), max(warm) + 1, color="#eeeeee", label="warm-up (excluded)" if index == 0 else None)
