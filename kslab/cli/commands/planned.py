"""Commands the product will have, registered so --help shows the whole shape; each exits 2 for now."""

from __future__ import annotations

from typing import Annotated

import typer

from kslab.errors import NotImplementedYet


def scenario(name: Annotated[str, typer.Argument(help="canary, raw-mode, autoscale, explainer, cold-start "
                                                 "or a file in scenarios/.")]) -> None:
    """Run a lab scenario (canary, raw-mode, autoscale, ...)."""
    raise NotImplementedYet("scenario")


def report(run: Annotated[str | None, typer.Argument(help="Run id (default: the latest).")] = None) -> None:
    """Render a run as Markdown, JUnit XML and HTML."""
    raise NotImplementedYet("report")


COMMANDS = {"scenario": scenario, "report": report}
