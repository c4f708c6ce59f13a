"""kslab model build: train a catalog model locally (needs the ``local`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kslab.cli.context import current
from kslab.cli.options import LAB_MODEL, ModelArg, OutputOption
from kslab.cli.output import emit

app = typer.Typer(name="model", help="Build the catalog's models locally (scikit-learn, bundled data).",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


@app.command("build")
def build(
    ctx: typer.Context,
    name: ModelArg = LAB_MODEL,
    version: Annotated[str, typer.Option("--model-version", help="A build of the catalog entry: v1 (svm.SVC) "
                                         "or v2 (LogisticRegression) for sklearn-iris (as deploy --model-version)."
                                         )] = "v1",
    version_alias: Annotated[str | None, typer.Option("--version", hidden=True)] = None,  # the old spelling
    out: Annotated[Path | None, typer.Option("--out", help="Output directory (default: <state dir>/models); "
                                             "files go to OUT/NAME/VERSION/.", show_default=False)] = None,
    output: OutputOption = None,
) -> None:
    """Train a model from the catalog recipe and write model.joblib + metadata.json.

    Trains on scikit-learn's bundled iris data (no download), scores it on a held-out split
    (test_size/random_state from manifests/models/catalog.yaml) and records the accuracy, sklearn version
    and the model file's sha256 in metadata.json.
    """
    from kslab.modelbuild.builder import build_model, models_dir

    cli = current(ctx)
    version = version_alias or version
    result = build_model(name, version, out or models_dir(cli.env.state_dir))
    emit(cli, result.to_dict(), output, title=f"kslab model build {name} --model-version {version}")
