"""The progress view's plain (non-terminal) output: one timestamped line per event, load ticks thinned out."""

from __future__ import annotations

import io
from contextlib import contextmanager
from types import SimpleNamespace

from rich.console import Console

from kslab.cli import progress
from kslab.cli.main import run
from kslab.cli.progress import ProgressView
from kslab.config.model import LabSettings, Settings
from kslab.exitcodes import ExitCode
from kslab.lab import experiment
from kslab.models.endpoint import Endpoint
from kslab.models.run_record import RunRecord
from tests.load_support import TestServer


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


def _profile_ticks(aggregate, steps: int = 4, seconds_per_step: int = 20) -> None:
    from kslab.load.engine import Tick
    from kslab.load.histogram import encode, new_histogram

    histogram = new_histogram()
    histogram.record_value(2000)
    for step in range(steps):
        aggregate.add(Tick(step * seconds_per_step + 1, step, 10, {}, 0, encode(histogram)))


def test_a_profiles_progress_names_the_level_running():
    """Issue 14: the load row says which profile level runs ('c=10 (2/4) 7s/20s'), not only req/s."""
    from kslab.load.aggregate import Aggregate, level_text
    from kslab.load.plan import build_plan

    plan = build_plan(concurrency=None, duration=None, requests=None, rate=None, profile="5,10,20,50@20s",
                      warmup=None, timeout=None, workers=1)
    aggregate = Aggregate(plan)
    assert level_text(aggregate.live(3.2)["level"]) == "c=5 (1/4) 3s/20s"
    assert level_text(aggregate.live(27.9)["level"]) == "c=10 (2/4) 7s/20s"
    _profile_ticks(aggregate)  # the workers already report the last step: it wins over the schedule
    assert level_text(aggregate.live(59.5)["level"]) == "c=50 (4/4) 0s/20s"
    assert level_text(aggregate.live(95.0)["level"]) == "c=50 (4/4) 20s/20s"  # past the end: the last, full
    closed = build_plan(concurrency=4, duration="5s", requests=None, rate=None, profile=None, warmup=None,
                        timeout=None, workers=1)
    assert Aggregate(closed).live(1.0)["level"] is None and level_text(None) == ""


class _ServedProvider:
    """A provider whose model answers at a test server (what the lab's load step asks of the provider)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @contextmanager
    def endpoint(self, model: str):
        yield Endpoint(self.base_url, model)


def test_the_labs_load_row_and_kslab_load_show_the_level(monkeypatch, tmp_path, capsys):
    """The lab's load row and `kslab load --profile` (plain output) carry the level from the live figures."""
    monkeypatch.chdir(tmp_path)
    with TestServer() as server:
        assert run(["load", "sklearn-iris", "--url", server.url("/ok"), "--profile", "1,2@2s"]) == ExitCode.OK
        err = capsys.readouterr().err
        assert "c=1 (1/2) 1s/2s" in err and "c=2 (2/2) " in err, err

        rows: list[tuple[str, str, str]] = []
        settings = Settings(provider="local", lab=LabSettings(load_profile="3,6@2s", load_warmup="0s"))
        session = SimpleNamespace(settings=settings, provider=_ServedProvider(f"http://127.0.0.1:{server.port}"))
        experiment._load(session, RunRecord(tmp_path / "reports", "lab"), lambda *row: rows.append(row),
                         experiment.LabResult())
    details = [detail for component, phase, detail in rows if (component, phase) == ("load", "load")]
    assert any(d.startswith("c=3 (1/2) 1s/2s: ") for d in details), details
    assert any(d.startswith("c=6 (2/2) ") for d in details), details


def test_the_live_view_on_a_terminal_takes_events_without_deadlocking():
    """`kslab lab` on a terminal hung at its first event: the event held the view's lock while refreshing the
    live table, and rendering the table takes that lock (the view renders itself). Events from the command's
    thread and the live refresh thread must both get through."""
    import threading

    screen = io.StringIO()
    view = ProgressView(Console(file=screen, force_terminal=True, width=80), "kslab lab (local)")
    done = threading.Event()

    def events() -> None:
        with view:
            for second in range(5):
                view("deploy", "install", f"sklearn-iris {second}")
            view("deploy", "ready", "http://127.0.0.1:8080")
        done.set()

    threading.Thread(target=events, daemon=True).start()
    assert done.wait(10), "the live view deadlocked on an event"
    assert "http://127.0.0.1:8080" in screen.getvalue()
