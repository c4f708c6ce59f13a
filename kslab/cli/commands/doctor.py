"""kslab doctor: the layer walk for an InferenceService, or the machine preflight (`--preflight`)."""

from __future__ import annotations

from typing import Annotated

import typer

from kslab.cli.context import CliContext, current
from kslab.cli.options import OutputOption
from kslab.cli.output import emit_checks
from kslab.errors import CheckFailed, UsageError


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

    Walks the API server, the stack (with webhook endpoints), the InferenceService (conditions, runtime,
    pods, logs, route: rules in manifests/diagnosis/signatures.yaml) and an inference request, and stops at
    the first broken layer with its evidence and fix (exit 1). --preflight checks only the machine, before
    any cluster exists; it exits 3 when something required is missing.
    """
    cli = current(ctx)
    if not preflight:
        if name is None:
            raise UsageError("name the InferenceService to diagnose, or use --preflight", "kslab doctor sklearn-iris")
        _diagnose(cli, name, provider, output)
        return
    from kslab.providers.preflight import require_passing

    checks = cli.session(provider=provider).provider.preflight()
    rows = [{"check": c.name, "ok": c.ok, "severity": c.severity, "detail": c.detail, "fix": c.fix} for c in checks]
    emit_checks(cli, rows, output, title="preflight", name="check")
    require_passing(checks)


def _diagnose(cli: CliContext, name: str, provider: str | None, output: str | None) -> None:
    from kslab.doctor.walk import walk

    checks = walk(cli.session(provider=provider), name)
    emit_checks(cli, [c.to_dict() for c in checks], output, title=f"doctor {name}", name="layer",
                notes=("fix", "evidence"))
    broken = next((c for c in checks if not c.ok), None)
    if broken is not None:
        raise CheckFailed(f"{name}: broken at {broken.layer}: {broken.detail}", broken.fix)
