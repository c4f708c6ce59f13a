"""kslab doctor: for now the machine preflight (`--preflight`); layer-by-layer diagnosis comes later."""

from __future__ import annotations

from typing import Annotated

import typer

from kslab.cli.context import current
from kslab.cli.options import OutputOption
from kslab.cli.output import emit
from kslab.errors import NotImplementedYet


def doctor(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="InferenceService to diagnose.")] = None,
    preflight: Annotated[bool, typer.Option("--preflight", help="Only check this machine for the provider "
                                            "(docker, kind/minikube, kubectl, helm, CPU/memory, inotify).")] = False,
    provider: Annotated[str | None, typer.Option("--provider", help="kind, minikube or existing.",
                                                 show_default=False)] = None,
    output: OutputOption = None,
) -> None:
    """Find the broken layer and say why.

    Walks API, stack, conditions, runtime, pods and route in order. --preflight checks only the
    machine, before any cluster exists; it exits 3 when something required is missing.
    """
    if not preflight:
        raise NotImplementedYet("doctor")
    from kslab.lab.preflight import require_passing, run_preflight

    cli = current(ctx)
    checks = run_preflight(cli.override(provider=provider))
    rows = [{"check": c.name, "ok": c.ok, "severity": c.severity, "detail": c.detail, "fix": c.fix} for c in checks]
    emit(cli, rows, output, title="preflight")
    require_passing(checks)
