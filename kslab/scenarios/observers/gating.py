"""``canary-gates``: judge a saved ``canary-analysis`` with the scenario's gates (kslab/scenarios/gates.py).

Options: analysis (the ``save:`` key of a canary-analysis step, required), gates (the list, required; see
docs/scenarios.md "Canary gates"), final (true at the last stage before promotion: an inconclusive verdict then
rolls back too), stage (a label, e.g. the canary percent).

Result: stage, status (pass | fail | inconclusive), decision (continue | promote | rollback), final, canary,
stable, gates[{name, metric, status, expected, observed, bound, stable, samples, reason, evidence}], analysis.
A ``rollback`` decision fails the step with every failing (or, at the final stage, inconclusive) gate as expected
vs observed, the result kept as the step's observations: the scenario's ``catch`` steps then roll back.
"""

from __future__ import annotations

from typing import Any

from kslab.errors import UsageError
from kslab.scenarios.context import ScenarioContext, StepFailed
from kslab.scenarios.gates import FAIL, INCONCLUSIVE, evaluate, parse_gates


def observe_canary_gates(ctx: ScenarioContext, options: dict[str, Any]) -> dict[str, Any]:
    key = options.get("analysis")
    analysis = ctx.saved.get(str(key)) if key else None
    if not isinstance(analysis, dict) or "revisions" not in analysis:
        raise UsageError(f"with.analysis {key!r} is not a saved canary-analysis observation",
                         "save one first: {observe: canary-analysis, save: <key>}, then with: {analysis: <key>}")
    final = str(options.get("final", False)).lower() in ("true", "1", "yes")
    result = {"stage": options.get("stage"), **evaluate(parse_gates(options.get("gates")), analysis, final),
              "analysis": str(key)}
    ctx.mark(f"canary-gates {result['stage'] or ''}: {result['status']} -> {result['decision']}".replace("  ", " "))
    if result["decision"] != "rollback":
        return result
    blocking = {FAIL, INCONCLUSIVE} if final else {FAIL}
    why = "; ".join(f"{g['name']} {g['status']}: expected {g['expected']}, observed {g['observed']} "
                    f"({g['reason']})" for g in result["gates"] if g["status"] in blocking)
    where = f" at stage {result['stage']}" if result["stage"] is not None else ""
    verdict = "inconclusive at the final stage (promotion needs evidence)" if result["status"] == INCONCLUSIVE \
        else "failed"
    raise StepFailed(f"canary {result['canary']} gates {verdict}{where}: {why}",
                     f"rolling back to {result['stable']} (canaryTrafficPercent 0)", result)
