"""What a finished load run says beyond its numbers: a run in which no request was answered failed, and an open
loop that fell short of its rate is flagged (a warning; a failure when the caller is strict, e.g. ``--ci``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kslab.errors import CheckFailed
from kslab.load.plan import LoadPlan

RATE_REACHED = 0.9  # an open loop that delivered at least this share of its rate (OK answers) reached it


class LoadFailed(CheckFailed):
    """The load run failed; ``result`` is what it measured (printed and recorded all the same)."""

    def __init__(self, message: str, hint: str | None, result: dict[str, Any]) -> None:
        super().__init__(message, hint)
        self.result = result


def no_answers(result: Mapping[str, Any]) -> str | None:
    """'every one of the N requests failed (connect 10015)' when nothing was answered; None otherwise (an
    interrupted run stays interrupted)."""
    if result.get("interrupted") or result.get("ok"):
        return None
    errors = ", ".join(f"{kind} {count}" for kind, count in (result.get("errors") or {}).items())
    requests = int(result.get("requests") or 0)
    if not requests:
        return "no request was sent"
    return f"every one of the {requests} requests failed" + (f" ({errors})" if errors else "")


def rate_check(plan: LoadPlan, result: Mapping[str, Any]) -> dict[str, Any] | None:
    """An open loop's rate against what it delivered: {target_rps, achieved_rps, late, reached}; None for the
    other modes and for an interrupted run."""
    if plan.mode != "open" or result.get("interrupted"):
        return None
    target = float(plan.steps[0].level)
    achieved = float(result.get("throughput_rps") or 0.0)
    return {"target_rps": target, "achieved_rps": achieved, "late": int(result.get("late") or 0),
            "reached": achieved >= RATE_REACHED * target}


def shortfall_text(rate: Mapping[str, Any]) -> str:
    return (f"the open loop did not reach its rate: {rate['achieved_rps']:,.0f} of {rate['target_rps']:,.0f} "
            f"req/s answered OK, {rate['late']:,} requests sent late")


SHORTFALL_HINT = "lower --rate, add --workers, or check the server (the table shows where time went)"


def judge(plan: LoadPlan, *, strict: bool) -> Callable[[dict[str, Any]], None]:
    """A check for ``kslab.load.recipe.record_load``: adds ``rate`` to an open loop's result and raises
    LoadFailed when nothing was answered, or (``strict``) when the rate was not reached."""
    def check(result: dict[str, Any]) -> None:
        rate = rate_check(plan, result)
        if rate is not None:
            result["rate"] = rate
        failure = no_answers(result)
        if failure is not None:
            raise LoadFailed(failure, "check the endpoint (kslab predict, kslab doctor NAME) and the errors above",
                             result)
        if strict and rate is not None and not rate["reached"]:
            raise LoadFailed(shortfall_text(rate), SHORTFALL_HINT, result)
    return check
