"""The run record: reports/<run-id>/run.json, rewritten atomically after every step.

A crash or Ctrl-C therefore always leaves a valid record of what happened up to that moment.
Run directories are never reused: a new run gets a new id.
"""

from __future__ import annotations

import datetime as dt
import platform
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kslab import __version__
from kslab.util.atomic import write_json
from kslab.util.redact import redact_data

SCHEMA = "kslab.run/v1"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _interruption(exc: KeyboardInterrupt) -> str:
    """Why a step stopped: Ctrl-C, or the signal a kslab.util.signals.Terminated names (SIGTERM, SIGHUP)."""
    signum = getattr(exc, "signum", None)
    return "interrupted by the user" if signum is None else f"interrupted by {exc.args[0] if exc.args else signum}"


class RunRecord:
    def __init__(self, reports_dir: Path, command: str, settings: dict[str, Any] | None = None,
                 environment: dict[str, Any] | None = None) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.run_id = f"{stamp}-{command}-{secrets.token_hex(2)}"
        self.dir = Path(reports_dir) / self.run_id
        self.dir.mkdir(parents=True, exist_ok=False)
        self.path = self.dir / "run.json"
        self.data: dict[str, Any] = {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "command": command,
            "tool": {"kslab": __version__, "python": platform.python_version(), "platform": platform.platform()},
            "started_at": _now(),
            "finished_at": None,
            "result": "running",
            "settings": settings or {},
            "steps": [],
            "environment": environment if environment is not None else {"user": "", "ci": False},  # a Session
            # passes its Environment's facts; a record made without one claims none
        }
        self.flush()

    def flush(self) -> None:
        write_json(self.path, redact_data(self.data))  # registered secrets never reach the file

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.flush()

    @contextmanager
    def step(self, name: str, /, **inputs: Any) -> Iterator[dict[str, Any]]:
        """Record a step; the yielded dict takes observations. An exception marks it failed and propagates."""
        entry: dict[str, Any] = {"name": name, "inputs": inputs, "started_at": _now(), "finished_at": None,
                                 "duration_s": None, "result": "running", "observations": {}}
        self.data["steps"].append(entry)
        self.flush()
        start = time.monotonic()
        try:
            yield entry["observations"]
        except KeyboardInterrupt as exc:
            entry["result"], entry["error"] = "interrupted", _interruption(exc)
            raise
        except BaseException as exc:
            entry["result"] = "failed"
            entry["error"] = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            raise
        else:
            entry["result"] = entry["observations"].pop("_result", "ok")
        finally:
            entry["finished_at"] = _now()
            entry["duration_s"] = round(time.monotonic() - start, 3)
            self.flush()

    def finish(self, result: str) -> None:
        self.data["result"] = result
        self.data["finished_at"] = _now()
        self.flush()
