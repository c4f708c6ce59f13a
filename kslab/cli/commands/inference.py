"""kslab predict / smoke: thin wrappers over kslab.inference and kslab.lab.smoke (the session's provider)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kslab.cli.context import current
from kslab.cli.options import LAB_MODEL, ModelArg, OutputOption, ProviderOption
from kslab.cli.output import emit
from kslab.errors import CheckFailed, UsageError

PROTOCOLS = ("v1", "v2")


def _class_names(predictions: list[Any] | None, classes: tuple[str, ...]) -> list[str] | None:
    if predictions is None:
        return None
    return [classes[p] if isinstance(p, int) and 0 <= p < len(classes) else str(p) for p in predictions]


def _brief(value: Any, width: int = 48) -> str:
    """One short line for a table cell; -o json has the full values."""
    import json

    if isinstance(value, dict) and set(value) == {"status", "error"}:
        text = f"{value['status']}: {value['error']}"
    else:
        text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _read_body(body: Path) -> bytes:
    try:
        return body.read_bytes()
    except OSError as exc:
        raise UsageError(f"--body {body}: {exc.strerror or exc}") from None


def predict(
    ctx: typer.Context,
    name: ModelArg = LAB_MODEL,
    instances: Annotated[str | None, typer.Option(help="JSON rows, e.g. '[[6.8,2.8,4.8,1.4]]' (default: the "
                                                  "catalog's first sample).", show_default=False)] = None,
    protocol: Annotated[str, typer.Option(help="v1 (KServe V1) or v2 (Open Inference Protocol).")] = "v1",
    body: Annotated[Path | None, typer.Option(help="Send this file unchanged as the request body.",
                                              show_default=False)] = None,
    provider: ProviderOption = None,
    output: OutputOption = None,
) -> None:
    """Send one V1 or V2 inference request.

    V1: POST /v1/models/NAME:predict {"instances": ...}. V2: POST /v2/models/NAME/infer with one FP32
    tensor "input-0". Exits 1 when the server does not answer 2xx (its error text is printed).
    """
    from kslab.inference.client import InferenceClient
    from kslab.inference.payloads import parse_instances
    from kslab.models.catalog import catalog_model

    cli = current(ctx)
    session = cli.session(provider=provider)
    settings = session.settings
    model = catalog_model(name)
    if protocol not in PROTOCOLS:
        raise UsageError(f"--protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if body is not None and instances is not None:
        raise UsageError("--body and --instances exclude each other", "use one of them")
    raw = _read_body(body) if body is not None else None
    rows = parse_instances(instances, len(model.features)) if instances is not None else model.samples[0].instances
    with session.provider.endpoint(name) as endpoint:
        if protocol not in endpoint.protocols:
            raise UsageError(f"{endpoint.describe()} does not serve protocol {protocol}",
                             f"use --protocol {endpoint.protocols[0]}")
        with InferenceClient(endpoint, timeout_s=settings.timeouts.request) as client:
            result = client.raw(protocol, raw) if raw is not None else client.send(protocol, rows)
    table = (output or cli.settings.output) == "table"
    # scripts parse -o json: the URL, the route to it (local, port-forward, direct) and the Host header apart
    where = {"endpoint": endpoint.describe()} if table else {"url": endpoint.base_url, "route": endpoint.via,
                                                             "host": endpoint.host}
    data: dict[str, Any] = {"model": name, **where, "protocol": protocol,
                            "status": result.status_code, "latency_ms": result.latency_ms,
                            "predictions": result.predictions,
                            "classes": _class_names(result.predictions, model.classes)}
    if table:
        data.update(error=result.error)
    else:
        data.update(ok=result.ok, error=result.error, attempts=result.attempts, response=result.body)
    emit(cli, data, output, title=f"kslab predict {name}")
    if not result.ok:
        raise CheckFailed(f"{name} answered {result.status_code}: {result.error}")


def smoke(
    ctx: typer.Context,
    name: ModelArg = LAB_MODEL,
    provider: ProviderOption = None,
    batch: Annotated[int, typer.Option(min=1, max=10000, help="Rows in the batch request.")] = 30,
    output: OutputOption = None,
) -> None:
    """Run V1 and V2 smoke tests with known answers.

    Readiness (V2 server, V1 model), V2 metadata, the catalog's iris samples and a batch over V1 and V2,
    and malformed requests that must be rejected. Exits 1 if any check fails. Recorded in
    reports/<run-id>/run.json.
    """
    from kslab.cli.recording import announce
    from kslab.lab.smoke import smoke as run_smoke

    cli = current(ctx)
    session = cli.session(provider=provider)
    with session.recorded("smoke", on_start=lambda started: announce(cli, started)) as record:
        report = run_smoke(session, name, batch_size=batch)
        record.set("smoke", {k: v for k, v in report.to_dict().items() if k != "checks"})
        record.finish("ok" if report.ok else "failed")
    if (output or cli.settings.output) == "table":
        rows = [{"check": c.name, "result": "ok" if c.ok else "FAIL", "expected": _brief(c.expected),
                 "actual": _brief(c.actual), "latency_ms": c.latency_ms} for c in report.checks]
        emit(cli, rows, "table", title=f"kslab smoke {name} ({report.endpoint})")
    else:
        # scripts parse -o json: the URL and the route to it apart (as predict gives them), not the human text
        data = {k: v for k, v in report.to_dict().items() if k != "endpoint"}
        emit(cli, data | {"run_record": str(record.path)}, output)
    if not report.ok:
        raise CheckFailed(f"{len(report.failed)} of {len(report.checks)} smoke checks failed: "
                          + ", ".join(c.name for c in report.failed),
                          f"details in {record.path}; 'kslab doctor {name}' looks for the broken layer")
