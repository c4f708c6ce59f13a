"""Load against a deployed model, recorded as a run-record step: what `kslab lab` measures after smoke.

The endpoint is resolved per provider (local runtime, or a port-forward held open for the run), the body
is the catalog's sample for the protocol, and the result dict is the one `kslab load` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kslab.config.model import Settings
from kslab.models.run_record import RunRecord
from kslab.session import Session

Progress = Callable[[dict[str, Any]], None]


def load_model(session: Session, name: str, plan: Any, record: RunRecord, *, protocol: str = "v1",
               progress: Progress | None = None, step: str = "load") -> dict[str, Any]:
    """Drive ``plan`` (a kslab.load.plan.LoadPlan) at model ``name``; the result is also the step's observations."""
    from kslab.load.request import endpoint_target, sample_body
    from kslab.load.runner import run_load
    from kslab.models.catalog import catalog_model

    body = sample_body(protocol, catalog_model(name).samples[0].instances)
    with record.step(step, model=name, protocol=protocol, plan=plan.to_dict()) as observations, \
            session.provider.endpoint(name) as endpoint:
        result = run_load(endpoint_target(endpoint, protocol, body), plan, progress)
        observations.update(result)
        if result["interrupted"]:
            observations["_result"] = "interrupted"
    return result


def lab_plan(settings: Settings) -> Any:
    """The lab's step profile (``lab.load_profile``, e.g. 1,5,10,20@5s) with its warm-up."""
    from kslab.load.plan import build_plan

    return build_plan(concurrency=None, duration=None, requests=None, rate=None, profile=settings.lab.load_profile,
                      warmup=settings.lab.load_warmup, timeout=None, workers=1)
