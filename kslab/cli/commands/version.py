"""kslab version: this tool's version and the stack versions it would install."""

from __future__ import annotations

import platform
import sys

import typer

from kslab import __version__
from kslab.cli.context import current
from kslab.cli.options import OutputOption
from kslab.cli.output import emit


def version(ctx: typer.Context, output: OutputOption = None) -> None:
    """Print versions of kslab and its pinned stack.

    The stack is the pinned row of manifests/stack/versions.yaml for the configured KServe release;
    no cluster is contacted.
    """
    from kslab.stack.versions import load_matrix

    cli = current(ctx)
    release = load_matrix().release(cli.settings.kserve_version)
    emit(cli, {
        "kslab": __version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform}/{platform.machine()}",
        "kserve": release.kserve,
        "knative_serving": release.knative_serving,
        "istio": release.istio,
        "cert_manager": release.cert_manager,
        "kind_node_image": release.kind.node_image,
    }, output)
