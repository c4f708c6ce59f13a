"""kslab scenario list / run / validate: thin wrappers over kslab.scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kslab.cli.context import current
from kslab.cli.options import OutputOption
from kslab.cli.output import emit
from kslab.cli.recording import run_recorded
from kslab.errors import CheckFailed

app = typer.Typer(name="scenario", help="Declarative lab scenarios (canary, raw-mode, autoscale, ...) from "
                  "scenarios/*.yaml; see docs/scenarios.md. 'kslab scenario NAME' is short for "
                  "'kslab scenario run NAME'.", no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None)

FileOption = Annotated[list[Path] | None, typer.Option("--file", help="An extra scenario file (repeatable).",
                                                       show_default=False)]


@app.command("list")
def list_(ctx: typer.Context, file: FileOption = None, output: OutputOption = None) -> None:
    """The built-in scenarios, those in ./scenarios/ and any --file, with what each requires."""
    from kslab.scenarios.catalog import list_scenarios

    cli = current(ctx)
    rows = list_scenarios(file or [])
    if (output or cli.settings.output) == "table":  # the file path is in -o json/yaml; a table needs the width
        rows = [{"name": r["name"], "source": r["source"],
                 "requires": ", ".join(f"{k}={v}" for k, v in r["requires"].items() if k != "because"),
                 "description": r["description"]} for r in rows]
    emit(cli, rows, output, title="scenarios")


@app.command("validate")
def validate(ctx: typer.Context,
             file: Annotated[Path, typer.Argument(help="Scenario file to check.")],
             output: OutputOption = None) -> None:
    """Check a scenario file against the format (exit 2 with file, step and field when it does not fit)."""
    from kslab.scenarios.loader import read_scenario

    scenario = read_scenario(file)
    emit(current(ctx), {"file": scenario.source, "name": scenario.name, "valid": True,
                        "steps": len(scenario.steps), "catch": len(scenario.catch),
                        "finally": len(scenario.finally_), "params": scenario.params,
                        "param_types": {k: v.to_dict() for k, v in scenario.param_specs.items()}}, output,
         title="kslab scenario validate")


def _summary(result: dict[str, Any], record_path: Path) -> dict[str, Any]:
    steps = result.get("steps") or []
    assertions = result.get("assertions") or []
    return {"scenario": result["name"], "verdict": result["verdict"], "reason": result.get("reason"),
            "steps": f"{sum(s['result'] == 'ok' for s in steps)} ok, {sum(s['result'] == 'failed' for s in steps)} "
                     f"failed, {sum(s['result'] == 'skipped' for s in steps)} skipped",
            "assertions": f"{sum(bool(a['ok']) for a in assertions)} of {len(assertions)} passed",
            "duration_s": result.get("duration_s"), "run_record": str(record_path)}


@app.command("run")
def run(ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="Scenario name (kslab scenario list) or a path to a file.")],
        set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: KEY=VALUE "
                                                       "(repeatable).", show_default=False)] = None,
        file: FileOption = None,
        provider: Annotated[str | None, typer.Option("--provider", help="kind, minikube, existing or local.",
                                                     show_default=False)] = None,
        output: OutputOption = None) -> None:
    """Run one scenario; every step, observation and assertion goes into reports/<run-id>/run.json.

    Exit 0 when it passed (or was skipped: the output says why), 1 when a step or assertion failed,
    2 for a bad file or --set, 130 when interrupted (cleanup still runs).
    """
    from kslab.scenarios.catalog import find_scenario
    from kslab.scenarios.engine import run_scenario
    from kslab.scenarios.loader import resolve_params

    cli = current(ctx)
    session = cli.session(provider=provider)
    scenario = find_scenario(name, file or [])
    params = resolve_params(scenario, set_ or [])
    result, record = run_recorded(cli, session, "scenario", f"kslab scenario run {scenario.name}",
                                  lambda _record, observe: run_scenario(session, scenario, params, observe))
    if result["verdict"] not in ("passed", "skipped"):
        record.finish("failed")
    emit(cli, _summary(result, record.path), output, title=f"scenario {scenario.name}")
    if result["verdict"] == "skipped":
        cli.err.print(f"{scenario.name}: {result['reason']}", highlight=False, markup=False)
    elif result["verdict"] != "passed":
        raise CheckFailed(f"scenario {scenario.name} {result['verdict']}: {result['reason']}",
                          f"details: {record.path}")
