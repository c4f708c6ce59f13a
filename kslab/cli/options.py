"""Option types shared by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

from kslab.config.model import OUTPUTS


def _check_output(value: str | None) -> str | None:
    if value is not None and value not in OUTPUTS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(OUTPUTS)}")
    return value


OutputOption = Annotated[
    str | None,
    typer.Option("--output", "-o", help="table, json or yaml (overrides the global --output).",
                 callback=_check_output, show_default=False),
]

LAB_MODEL = "sklearn-iris"  # the lab's model: what a bare `kslab predict` / `kslab load` means
ModelArg = Annotated[str, typer.Argument(help="Model / InferenceService name from the model catalog.",
                                         show_default=True)]


ProviderOption = Annotated[str | None, typer.Option("--provider", help="Where the model runs: kind, minikube, "
                                                    "existing (a cluster kslab did not create) or local (no "
                                                    "Kubernetes).", show_default=False)]


def duration_option(text: str | None, option: str = "--timeout") -> float | None:
    """A duration flag ('90s', '5m', '500ms', or a plain number of seconds) in seconds; None when not given."""
    if text is None:
        return None
    from kslab.errors import UsageError
    from kslab.util.durations import duration_seconds

    seconds = duration_seconds(text)
    if seconds is None:
        raise UsageError(f"{option} {text!r} is not a positive duration", "examples: 90s, 5m, 500ms, or 30 (seconds)")
    return seconds


TimeoutOption = Annotated[str | None, typer.Option("--timeout", help="How long to wait: 90s, 5m (a plain number "
                                                   "is seconds; default timeouts.deploy, 600s).",
                                                   show_default=False)]
