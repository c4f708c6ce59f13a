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
