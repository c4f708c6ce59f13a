"""`kslab lab`: the whole experiment in one run, every step in the run record.

Today: (up) → deploy → smoke; the parts that are not built yet (scenarios, load, rendered report)
are recorded as skipped with the reason, never as passed. Provider local needs no cluster: the
model is built and served by the real KServe model server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kslab.config.model import Settings
from kslab.errors import CheckFailed
from kslab.lab.smoke import SmokeReport, smoke
from kslab.models.run_record import RunRecord

Observer = Callable[[str, str, str], None]
MODEL = "sklearn-iris"
NOT_BUILT_YET = {
    "scenarios": "canary, raw-mode, autoscale, explainer and cold-start scenarios are not built yet",
    "load": "kslab lab does not run load yet; run 'kslab load sklearn-iris' on its own",
    "report": "Markdown/JUnit/HTML rendering is not built yet; run.json is the record",
}
NEEDS_CLUSTER = "needs a cluster (provider local has no Kubernetes)"


@dataclass
class LabResult:
    smoke: SmokeReport | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def _skip(record: RunRecord, name: str, reason: str, result: LabResult, observe: Observer) -> None:
    with record.step(name) as obs:
        obs.update(_result="skipped", reason=reason)
    result.skipped[name] = reason
    observe(name, "skip", reason)


def _deploy(settings: Settings, record: RunRecord, observe: Observer, result: LabResult) -> None:
    if settings.provider == "local":
        from kslab.lab.local import deploy_local

        observe("deploy", "install", f"{MODEL} on the local KServe model server")
        status = deploy_local(settings, MODEL, record=record)
        result.details["deploy"] = status.to_dict()
        observe("deploy", "ready", status.to_dict().get("url", ""))
        return
    from kslab.deploy.request import DeployRequest
    from kslab.deploy.service import deploy

    request = DeployRequest(name=MODEL, mode=settings.mode, timeout=float(settings.timeouts.deploy)).validate()
    result.details["deploy"] = deploy(settings, request, record, observe).to_dict()


def run_lab(settings: Settings, record: RunRecord, observe: Observer, *, keep: bool = True) -> LabResult:
    """Run the experiment; raises CheckFailed (exit 1) when smoke fails, after recording everything."""
    result = LabResult()
    if settings.provider != "local":
        from kslab.lab.cluster import bring_up

        result.details["up"] = bring_up(settings, record, observer=observe).provider
    _deploy(settings, record, observe, result)
    try:
        result.smoke = smoke(settings, MODEL, record=record,
                             on_check=lambda c: observe("smoke", "ok" if c.ok else "failed", c.name))
    finally:
        if settings.provider == "local" and not keep:
            from kslab.lab.local import undeploy_local

            undeploy_local(settings, MODEL)
    for name, reason in NOT_BUILT_YET.items():
        reason = NEEDS_CLUSTER if name == "scenarios" and settings.provider == "local" else reason
        _skip(record, name, reason, result, observe)
    if not result.smoke.ok:
        failed = ", ".join(c.name for c in result.smoke.failed)
        raise CheckFailed(f"smoke checks failed: {failed}", f"see {record.path} for expected vs actual")
    return result
