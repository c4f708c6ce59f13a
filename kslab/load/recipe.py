"""The one load recipe: a model's endpoint (the provider's), the V1/V2 body for the protocol, the plan driven at
it (kslab.load.runner), the typed LoadResult, and that result recorded as a run-record step where a caller records.

`kslab load`, the lab's load step, a scenario's traffic action and the traffic-split observer all load through
here. What is theirs stays with them: the CLI's protocol check and output, the lab's profile, the scenario's
background thread and stop event, the observer's instances and per-revision counting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kslab.load.http import Target
    from kslab.load.plan import LoadPlan
    from kslab.models.endpoint import Endpoint
    from kslab.models.entries import LoadResult
    from kslab.models.run_record import RunRecord
    from kslab.providers.base import Provider

Progress = Callable[[dict[str, Any]], None]  # live figures about once a second (kslab.load.aggregate live())
Stop = Callable[[], bool]


def request_body(model: str, protocol: str, instances: Sequence[Sequence[float]] | None = None) -> bytes:
    """The V1/V2 JSON body for ``instances``, by default the catalog's first sample of ``model``."""
    from kslab.load.request import sample_body
    from kslab.models.catalog import catalog_model

    return sample_body(protocol, instances if instances is not None else catalog_model(model).samples[0].instances)


@contextmanager
def model_target(provider: Provider, model: str, protocol: str = "v1", *, body: bytes | None = None,
                 instances: Sequence[Sequence[float]] | None = None,
                 check: Callable[[Endpoint], None] | None = None) -> Iterator[Target]:
    """The model's endpoint, held open for the block (local runtime or port-forward), as a load Target: its
    predict (V1) or infer (V2) route and Host header with ``body`` (default: ``request_body``). ``check`` sees
    the endpoint before the body is built (the CLI refuses a protocol it does not serve)."""
    from kslab.load.request import endpoint_target

    with provider.endpoint(model) as endpoint:
        if check is not None:
            check(endpoint)
        yield endpoint_target(endpoint, protocol, body if body is not None else
                              request_body(model, protocol, instances))


def drive(target: Target, plan: LoadPlan, progress: Progress | None = None, *,
          stop: Stop | None = None) -> LoadResult:
    """Drive ``plan`` at ``target`` (Ctrl-C or ``stop()`` ends it early: a partial result, ``interrupted``)."""
    from kslab.load.runner import drive_load

    return drive_load(target, plan, progress, stop=stop)


def load_model(provider: Provider, model: str, plan: LoadPlan, *, protocol: str = "v1",
               instances: Sequence[Sequence[float]] | None = None, progress: Progress | None = None,
               stop: Stop | None = None) -> LoadResult:
    """The whole recipe: resolve ``model``'s endpoint, build the body, drive ``plan``, return the result."""
    with model_target(provider, model, protocol, instances=instances) as target:
        return drive(target, plan, progress, stop=stop)


def record_load(record: RunRecord, step: str, run: Callable[[], LoadResult | Mapping[str, Any]],
                judge: Callable[[dict[str, Any]], None] | None = None, **inputs: Any) -> dict[str, Any]:
    """``run()`` as run-record step ``step`` (``inputs`` as its inputs): the result (a LoadResult, or the merged
    dict of an in-cluster run) becomes the step's observations; an interrupted run marks the step interrupted.
    ``judge(result)`` may add keys to the result and raise (kslab.load.verdict): the step then fails with its
    message, its observations kept. Returns the result as a dict, as the record holds it."""
    with record.step(step, **inputs) as observations:
        found = run()
        result = dict(found) if isinstance(found, Mapping) else found.to_dict()
        try:
            if judge is not None:
                judge(result)
        finally:
            observations.update(result)
        if result["interrupted"]:
            observations["_result"] = "interrupted"
    return result
