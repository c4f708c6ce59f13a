"""The progress view's plain (non-terminal) output: one timestamped line per event, load ticks thinned out."""

from __future__ import annotations

import io

from rich.console import Console

from kslab.cli import progress
from kslab.cli.progress import ProgressView


def _plain_view() -> tuple[ProgressView, io.StringIO]:
    buffer = io.StringIO()
    return ProgressView(Console(file=buffer, force_terminal=False, width=200), "t", live=False), buffer


def test_per_second_load_ticks_are_logged_at_most_once_per_throttle_window(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    view, buffer = _plain_view()
    with view:
        for second in range(12):  # twelve one-second ticks: lines at 0 s, 5 s and 10 s
            view("load", "load", f"{second} req/s")
            clock[0] += 1.0
        view("load", "ok", "done")
        for name in ("a", "b"):  # other phases are never thinned out, however quick
            view("smoke", "ok", name)
    lines = buffer.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "load: load 0 req/s", "load: load 5 req/s", "load: load 10 req/s", "load: ok done", "smoke: ok a",
        "smoke: ok b"]


def test_elapsed_advances_through_a_long_step_and_between_events(monkeypatch):
    """Issue 14: per-second load progress must not reset the load row's clock, and the live table is rendered
    afresh on each refresh (ELAPSED used to stay 0s through a 20 s load step)."""
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    view = ProgressView(Console(file=io.StringIO(), force_terminal=False, width=200), "t", live=False)
    view("load", "run", "profile 1,5,10,20@5s")
    for _ in range(20):
        clock[0] += 1.0
        view("load", "load", "100 req/s, p99 3 ms, errors 0")
    rendered = io.StringIO()
    Console(file=rendered, width=200).print(view)  # the view renders itself (what Live refreshes)
    row = next(line for line in rendered.getvalue().splitlines() if line.startswith("load"))
    assert row.rstrip().endswith("20s"), row
    clock[0] += 5.0  # no event for five seconds: the next refresh still moves on
    rendered = io.StringIO()
    Console(file=rendered, width=200).print(view)
    assert next(line for line in rendered.getvalue().splitlines() if line.startswith("load")).rstrip().endswith("25s")
