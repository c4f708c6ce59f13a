"""One command's world, worked out once: settings, the process environment, the provider and the run record.

The CLI builds a Session per command (kslab.cli.context) and hands it to the services. Everything that used to
be re-derived along the way comes from here: the Provider (``session.provider``: built once, and its ``kube()``
is the session's one Kubernetes client), the environment (read once: environ, cwd, ttys, clock) and the run
record (``session.recorded(command)``: started, finished "ok"/"failed"/"interrupted" whatever happens).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kslab.config.model import Settings
from kslab.models.environment import Environment
from kslab.models.run_record import RunRecord

if TYPE_CHECKING:
    from kslab.kube.client import Kube
    from kslab.providers.base import Provider

__all__ = ["Environment", "Session"]


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

            self._provider = make_provider(self.settings, self.env)
        return self._provider

    @property
    def state_dir(self) -> Path:
        """kslab's state dir (created clusters, kubeconfigs, local runtimes, model builds) for this environment."""
        return self.env.state_dir

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
        "interrupted" on Ctrl-C or SIGTERM, "failed" on any other exception, which propagates.

        A signal a component stopped on gracefully (the load engine keeps its partial result; kslab.util.signals)
        is never a pass: the record ends "interrupted" and the interruption is raised once the block is done."""
        from kslab.util import signals

        record = self.new_record(command)
        if on_start is not None:
            on_start(record)
        try:
            yield record
        except BaseException as exc:
            record.finish("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
            raise
        if signals.pending() is not None and record.data["result"] in ("running", "ok"):
            record.finish("interrupted")  # a block that set "interrupted" itself ends the command itself (kslab load)
            raise signals.interruption()
        if record.data["result"] == "running":
            record.finish("ok")

    def require_record(self) -> RunRecord:
        if self.record is None:
            raise RuntimeError("kslab: this service runs inside session.recorded(...)")
        return self.record
