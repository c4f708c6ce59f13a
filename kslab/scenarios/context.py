"""ScenarioContext: what every scenario action and observer receives.

Shared contract with the observers (kslab/scenarios/observers/): observers are
`Callable[[ScenarioContext, dict], dict]` and may use any public member below.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.models.run_record import RunRecord
from kslab.session import Session

if TYPE_CHECKING:
    from kslab.kube.client import Kube
    from kslab.models.cluster import ClusterAccess
    from kslab.providers.base import Provider

Progress = Callable[[str, str, str], None]


def _quiet(step: str, state: str, detail: str) -> None:
    """The default progress sink: nothing to show."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Cleanup:
    what: str
    fn: Callable[[], None]


@dataclass
class ScenarioContext:
    session: Session  # settings, provider (its one Kube) and the run record the scenario writes into
    namespace: str
    isvc: str
    params: dict[str, Any]
    result: dict[str, Any]
    started: float = field(default_factory=time.monotonic)
    saved: dict[str, Any] = field(default_factory=dict)
    progress: Progress = _quiet
    stop: threading.Event = field(default_factory=threading.Event)
    cleanups: list[Cleanup] = field(default_factory=list)
    background: dict[str, Any] = field(default_factory=dict)  # step name -> running background job
    prepared: set[str] = field(default_factory=set)  # what a step made once per run (PVC model URIs)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def settings(self) -> Settings:
        return self.session.settings

    @property
    def record(self) -> RunRecord:
        return self.session.require_record()

    @property
    def provider(self) -> Provider:
        return self.session.provider

    def access(self) -> ClusterAccess:
        """Where the cluster is (provider kubeconfig, or --kubeconfig/--context)."""
        return self.provider.client_access()

    def kube(self) -> Kube:
        """The session's Kube (built once by the provider), shared by actions and observers."""
        return self.session.kube()

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def mark(self, label: str) -> None:
        """An event on the scenario's timeline (same time base as timelines and load events)."""
        with self._lock:
            self.result.setdefault("events", []).append({"t_s": self.elapsed(), "at": now_iso(), "label": label})

    def add_cleanup(self, fn: Callable[[], None], what: str) -> None:
        """Run `fn` at the end (reverse order, after `finally` steps), even after a failure or Ctrl-C."""
        with self._lock:
            self.cleanups.append(Cleanup(what, fn))

    def run_cleanups(self) -> list[dict[str, Any]]:
        """Run registered cleanups newest first; each failure is recorded and the rest still run."""
        done: list[dict[str, Any]] = []
        while True:
            with self._lock:
                if not self.cleanups:
                    return done
                item = self.cleanups.pop()
            entry: dict[str, Any] = {"what": item.what, "ok": True}
            try:
                item.fn()
            except Exception as exc:  # a failed cleanup must not stop the others
                entry.update(ok=False, error=getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
            done.append(entry)


@dataclass(frozen=True)
class StepCall:
    """What an action receives besides the context: the step's rendered action value and sibling keys."""

    name: str
    action: str
    value: Any  # the action key's value, templates rendered
    extra: dict[str, Any]  # sibling keys (with:, why:), rendered
    timeout: float | None  # the step's timeout in seconds (None: the action's own default)


class StepFailed(CheckFailed):
    """A step failed after observing something worth keeping in the record (its ``observations``)."""

    def __init__(self, message: str, hint: str | None = None, observations: dict[str, Any] | None = None) -> None:
        super().__init__(message, hint)
        self.observations = observations or {}
