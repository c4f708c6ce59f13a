"""One command's world, worked out once: settings, the process environment, the provider and the run record.

The CLI builds a Session per command (kslab.cli.context) and hands it to the services. Everything that used to
be re-derived along the way comes from here: the Provider (``session.provider``: built once, and its ``kube()``
is the session's one Kubernetes client), the environment (read once: environ, cwd, ttys, clock) and the run
record (``session.recorded(command)``: started, finished "ok"/"failed"/"interrupted" whatever happens).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kslab.config.model import Settings
from kslab.models.run_record import RunRecord

if TYPE_CHECKING:
    from kslab.kube.client import Kube
    from kslab.providers.base import Provider


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


@dataclass(frozen=True)
class Environment:
    """The process as kslab found it (after httpie's Environment): read once, passed down, replaceable in tests."""

    environ: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = field(default_factory=Path)
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_process(cls) -> Environment:
        return cls(environ=dict(os.environ), cwd=Path.cwd(), stdin_isatty=_isatty(sys.stdin),
                   stdout_isatty=_isatty(sys.stdout), stderr_isatty=_isatty(sys.stderr))

    @property
    def no_color(self) -> bool:
        """NO_COLOR set (https://no-color.org): no colours whatever the settings say."""
        return "NO_COLOR" in self.environ

    def record_facts(self) -> dict[str, Any]:
        """What a run record keeps about the environment it ran in."""
        return {"user": self.environ.get("USER", ""), "ci": bool(self.environ.get("CI"))}


class Session:
    """Settings + environment + provider + run record for one command."""

    def __init__(self, settings: Settings, env: Environment | None = None, *, provider: Provider | None = None,
                 record: RunRecord | None = None) -> None:
        self.settings = settings
        self.env = env or Environment.from_process()
        self._provider = provider
        self.record = record

    @property
    def provider(self) -> Provider:
        """The provider the settings name, built on first use (kind/minikube read the version matrix)."""
        if self._provider is None:
            from kslab.providers.registry import make_provider

            self._provider = make_provider(self.settings)
        return self._provider

    def kube(self) -> Kube:
        """The session's Kubernetes client (the provider's, built once); UsageError on provider local."""
        return self.provider.kube()

    def new_record(self, command: str) -> RunRecord:
        self.record = RunRecord(Path(self.settings.reports_dir), command, self.settings.to_dict(),
                                environment=self.env.record_facts())
        return self.record

    @contextmanager
    def recorded(self, command: str, on_start: Callable[[RunRecord], None] | None = None) -> Iterator[RunRecord]:
        """A new run record for the block: finished "ok" when the block ends (unless it already set a result),
        "interrupted" on Ctrl-C, "failed" on any other exception, which propagates."""
        record = self.new_record(command)
        if on_start is not None:
            on_start(record)
        try:
            yield record
        except BaseException as exc:
            record.finish("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
            raise
        if record.data["result"] == "running":
            record.finish("ok")

    def require_record(self) -> RunRecord:
        if self.record is None:
            raise RuntimeError("kslab: this service runs inside session.recorded(...)")
        return self.record
