"""Live progress for long operations: a rich table on a terminal, plain timestamped lines elsewhere (CI)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

DONE_PHASES = {"ready", "skip", "failed", "plan", "ok", "warning", "error", "reuse", "created"}
QUIET_PHASES = {"helm", "kind", "minikube"}  # raw tool output: shown as detail, not logged line by line
THROTTLED_PHASES = {"load"}  # per-second load progress: in plain output at most one line per component a while
THROTTLE_S = 5.0


class ProgressView:
    """Observer for (component, phase, detail) events; use as a context manager."""

    def __init__(self, console: Console, title: str, live: bool | None = None) -> None:
        self.console = console
        self.title = title
        self.live_enabled = console.is_terminal if live is None else live
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> ProgressView:
        if self.live_enabled:
            from rich.live import Live

            # the view itself is the renderable: each refresh re-renders, so ELAPSED advances between events
            self._live = Live(self, console=self.console, refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.__exit__(None, None, None)

    def __call__(self, component: str, phase: str, detail: str) -> None:
        self._update(component, phase, detail)
        if self._live is not None:
            # outside the lock: rendering the view (Live renders it now and on its own thread) takes the lock
            self._live.refresh()

    def _update(self, component: str, phase: str, detail: str) -> None:
        with self._lock:
            now = time.monotonic()
            if component == "stack" and phase == "parallel":
                self._line(f"running in parallel: {detail}")
                return
            row = self._rows.setdefault(component, {"since": now, "phase": phase, "detail": detail})
            if phase not in QUIET_PHASES:
                if row.get("done") and phase not in DONE_PHASES:
                    row["since"] = now  # new work for a finished row; progress within a step keeps its clock
                row["phase"] = phase
            row["detail"] = detail
            row["done"] = phase in DONE_PHASES
            if phase in THROTTLED_PHASES and not self.live_enabled:
                if now - row.get("logged", 0.0) < THROTTLE_S:
                    return
                row["logged"] = now
            if phase not in QUIET_PHASES or not self.live_enabled:
                self._line(f"{component}: {phase} {detail}".rstrip())

    def __rich__(self) -> Any:
        with self._lock:
            return self._render()

    def _line(self, text: str) -> None:
        if self._live is None:
            self.console.print(f"[{time.monotonic() - self._start:7.1f}s] {text}", highlight=False, markup=False)

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title, box=None, pad_edge=False)
        for column in ("COMPONENT", "STATE", "WAITING FOR / DETAIL", "ELAPSED"):
            table.add_column(column)
        now = time.monotonic()
        for name, row in self._rows.items():
            elapsed = "" if row.get("done") else f"{now - row['since']:.0f}s"
            table.add_row(name, row["phase"], str(row["detail"])[:90], elapsed)
        return table
