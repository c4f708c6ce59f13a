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
