"""Load against a deployed model, recorded as a run-record step: what `kslab lab` measures after smoke.

kslab.load.recipe does the loading (the provider's endpoint, the catalog's sample for the protocol, the engine)
and records it; the result dict is the one `kslab load` prints. What is the lab's own is its step profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kslab.config.model import Settings
from kslab.load.recipe import Progress
from kslab.models.entries.steps import LOAD_STEP
from kslab.models.run_record import RunRecord
from kslab.session import Session

if TYPE_CHECKING:
    from kslab.models.entries import LoadResult


def load_model(session: Session, name: str, plan: Any, record: RunRecord, *, protocol: str = "v1",
               progress: Progress | None = None, step: str = LOAD_STEP) -> dict[str, Any]:
    """Drive ``plan`` (a kslab.load.plan.LoadPlan) at model ``name``; the result is also the step's observations.

    Judged as `kslab load` judges its runs (kslab.load.verdict): a run in which nothing was answered raises
    LoadFailed (its ``result`` kept) after the step is recorded failed with the reason."""
    from kslab.load import recipe
    from kslab.load.verdict import judge

    def run() -> LoadResult:
        return recipe.load_model(session.provider, name, plan, protocol=protocol, progress=progress)
    return recipe.record_load(record, step, run, judge(plan, strict=False), model=name, protocol=protocol,
                              plan=plan.to_dict())


def lab_plan(settings: Settings) -> Any:
    """The lab's step profile (``lab.load_profile``, e.g. 1,5,10,20@5s) with its warm-up (UsageError when it is
    malformed). Whether this process may open its connections is kslab.lab.experiment.check_settings' part."""
    from kslab.load.plan import build_plan

    return build_plan(concurrency=None, duration=None, requests=None, rate=None, profile=settings.lab.load_profile,
                      warmup=settings.lab.load_warmup, timeout=None, workers=1, here=False)
