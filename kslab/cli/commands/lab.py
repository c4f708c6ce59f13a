"""kslab lab: the whole experiment in one command (a thin wrapper over kslab.lab.experiment)."""

from __future__ import annotations

from typing import Annotated

import typer

from kslab.cli.context import current
from kslab.cli.options import OutputOption
from kslab.cli.output import emit
from kslab.cli.recording import run_recorded


def lab(
    ctx: typer.Context,
    provider: Annotated[str | None, typer.Option("--provider", help="local (no Docker: the real KServe model "
                                                 "server on 127.0.0.1), kind, minikube or existing.",
                                                 show_default=False)] = None,
    keep: Annotated[bool, typer.Option("--keep/--no-keep", help="Leave the model deployed afterwards.")] = False,
    output: OutputOption = None,
) -> None:
    """Run the whole lab and write its report.

    preflight, up (cluster providers), model build, deploy, smoke over V1 and V2; steps that are not built
    yet (scenarios, load, rendered reports) are recorded as skipped with the reason. Exit 0 only when every
    check that ran passed; the run record is written either way.
    """
    from kslab.lab.experiment import run_lab

    cli = current(ctx)
    settings = cli.override(provider=provider)
    result, record = run_recorded(cli, settings, "lab", f"kslab lab ({settings.provider})",
                                  lambda rec, observe: run_lab(settings, rec, observe, keep=keep))
    smoke = result.smoke.to_dict() if result.smoke else {}
    emit(cli, {"provider": settings.provider, "smoke": f"{smoke.get('passed', 0)} passed, "
                                                       f"{smoke.get('failed', 0)} failed",
               "skipped": result.skipped, "run_record": str(record.path)}, output, title="kslab lab")
