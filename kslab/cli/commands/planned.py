"""Commands the product will have, registered so --help shows the whole shape; each exits 2 for now."""

from __future__ import annotations

from typing import Annotated

import typer

from kslab.errors import NotImplementedYet

NameArg = Annotated[str, typer.Argument(help="InferenceService name from the model catalog, e.g. sklearn-iris.")]


def deploy(name: NameArg) -> None:
    """Apply an InferenceService and wait until Ready.

    Renders the template from manifests/, lints it against the cluster, applies it server-side and
    watches its conditions.
    """
    raise NotImplementedYet("deploy")


def undeploy(name: NameArg) -> None:
    """Delete an InferenceService kslab deployed."""
    raise NotImplementedYet("undeploy")


def predict(name: NameArg) -> None:
    """Send one V1 or V2 inference request."""
    raise NotImplementedYet("predict")


def smoke(name: NameArg) -> None:
    """Run V1 and V2 smoke tests with known answers."""
    raise NotImplementedYet("smoke")


def port_forward(name: NameArg) -> None:
    """Forward 127.0.0.1 to an InferenceService until Ctrl-C."""
    raise NotImplementedYet("port-forward")


def load(name: NameArg) -> None:
    """Drive load and report latency and throughput.

    Closed loop (concurrency), open loop (rate) or a ramp; HDR-histogram percentiles.
    """
    raise NotImplementedYet("load")


def scenario(name: Annotated[str, typer.Argument(help="canary, raw-mode, autoscale, explainer, cold-start "
                                                 "or a file in scenarios/.")]) -> None:
    """Run a lab scenario (canary, raw-mode, autoscale, ...)."""
    raise NotImplementedYet("scenario")


def report(run: Annotated[str | None, typer.Argument(help="Run id (default: the latest).")] = None) -> None:
    """Render a run as Markdown, JUnit XML and HTML."""
    raise NotImplementedYet("report")


def lab() -> None:
    """Run the whole lab and write its report.

    preflight, up, deploy, smoke, scenarios, load, report.
    """
    raise NotImplementedYet("lab")


COMMANDS = {
    "deploy": deploy, "undeploy": undeploy, "predict": predict,
    "smoke": smoke, "port-forward": port_forward, "load": load, "scenario": scenario,
    "report": report, "lab": lab,
}
