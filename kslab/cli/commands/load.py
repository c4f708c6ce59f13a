"""kslab load: a thin wrapper over kslab.load (plan from flags, endpoint, live progress, table/JSON, run record)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kslab.cli.context import CliContext, current
from kslab.cli.options import LAB_MODEL, ModelArg, OutputOption
from kslab.errors import UsageError
from kslab.exitcodes import ExitCode

if TYPE_CHECKING:
    from kslab.load.http import Target
    from kslab.models.endpoint import Endpoint
    from kslab.models.entries import LoadResult
    from kslab.session import Session

PROTOCOLS = ("v1", "v2")


def _opt(help_text: str, *names: str) -> Any:
    return typer.Option(*names, help=help_text, show_default=False)


def load(
    ctx: typer.Context,
    name: ModelArg = LAB_MODEL,
    concurrency: Annotated[int | None, _opt("Connections (closed loop, default 10; open loop: the pool).",
                                            "--concurrency", "-c")] = None,
    duration: Annotated[str | None, _opt("How long: 30s, 2m (default 10s unless --requests).")] = None,
    requests: Annotated[int | None, _opt("Stop after this many requests (like hey -n).", "--requests", "-n")] = None,
    rate: Annotated[float | None, _opt("Open loop: requests per second on a fixed schedule; latency from the "
                                       "intended send time.")] = None,
    profile: Annotated[str | None, _opt("Steps of concurrency, e.g. 10,20,50,100@30s.")] = None,
    warmup: Annotated[str | None, _opt("Leave the first S out of the statistics, e.g. 5s.")] = None,
    timeout: Annotated[str | None, _opt("Per-request timeout (default 10s).")] = None,
    protocol: Annotated[str, typer.Option(help="v1 (KServe V1) or v2 (Open Inference Protocol).")] = "v1",
    body: Annotated[Path | None, _opt("Send this file as the request body instead of the catalog sample.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (for rates one core cannot drive).")] = 1,
    url: Annotated[str | None, _opt("Load this URL instead of resolving NAME (a bare base URL gets NAME's "
                                    "predict/infer route).")] = None,
    in_cluster: Annotated[bool, typer.Option("--in-cluster", help="Run the generator as a Job of --pods pods "
                                             "inside the cluster, against the model's cluster-internal URL.",
                                             show_default=False)] = False,
    pods: Annotated[int | None, _opt("--in-cluster: generator pods sharing the plan (default 1).")] = None,
    image: Annotated[str | None, _opt("--in-cluster: generator image (default load.image; on kind/minikube "
                                      "kslab builds and loads kslab/load:<version>).")] = None,
    provider: Annotated[str | None, _opt("kind, minikube, existing or local.", "--provider")] = None,
    ci: Annotated[bool, typer.Option("--ci", help="An open loop that does not reach its --rate fails (exit 1) "
                                     "instead of a warning.", show_default=False)] = False,
    output: OutputOption = None,
) -> None:
    """Drive load at a model and report latency percentiles, errors and throughput.

    Closed loop (--concurrency with --duration or --requests), open loop (--rate; coordinated omission
    corrected) or a step profile (--profile). Latencies in an HDR histogram (µs, 3 significant digits).
    Recorded in reports/<run-id>/run.json with a per-second series. Ctrl-C stops and keeps the partial result.
    --in-cluster runs it from pods next to the model (docs/in-cluster-load.md); Ctrl-C then deletes the Job.
    """
    from kslab.load.plan import build_plan

    cli = current(ctx)
    session = cli.session(provider=provider)
    if protocol not in PROTOCOLS:
        raise UsageError(f"--protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    plan = build_plan(concurrency=concurrency, duration=duration, requests=requests, rate=rate, profile=profile,
                      warmup=warmup, timeout=timeout, workers=workers, here=not in_cluster)
    payload = _read_body(body) if body is not None else None
    if in_cluster:
        if url is not None:
            raise UsageError("--url and --in-cluster exclude each other", "--in-cluster loads the model NAME")
        result = _run_in_cluster(cli, session, name, protocol, payload, plan, pods or 1, image, output, ci)
    elif pods is not None or image is not None:
        raise UsageError("--pods and --image need --in-cluster", "add --in-cluster")
    elif url is not None:
        target = _url_target(url, name, protocol, payload)
        result = _run(cli, session, name, lambda: nullcontext(target), plan, output, ci, target=target.url)
    else:
        from kslab.load.recipe import model_target

        def serves(endpoint: Endpoint) -> None:
            if protocol not in endpoint.protocols:
                raise UsageError(f"{endpoint.describe()} does not serve protocol {protocol}",
                                 f"use --protocol {endpoint.protocols[0]}")

        def opened() -> AbstractContextManager[Target]:
            return model_target(session.provider, name, protocol, body=payload or None, check=serves)
        result = _run(cli, session, name, opened, plan, output, ci)
    if result["interrupted"]:
        raise typer.Exit(ExitCode.INTERRUPTED)


def _read_body(body: Path) -> bytes:
    try:
        return body.read_bytes()
    except OSError as exc:
        raise UsageError(f"--body {body}: {exc.strerror or exc}") from None


def _url_target(url: str, name: str, protocol: str, payload: bytes | None) -> Target:
    from urllib.parse import urlsplit

    from kslab.inference.payloads import predict_path
    from kslab.load.http import Target
    from kslab.load.recipe import request_body

    bare = urlsplit(url).path in ("", "/")
    path = predict_path(protocol, name) if bare else ""
    return Target.build(url, path, payload if payload is not None else request_body(name, protocol))


def _run(cli: CliContext, session: Session, name: str, opened: Callable[[], AbstractContextManager[Target]],
         plan: Any, output: str | None, strict: bool, **inputs: Any) -> dict[str, Any]:
    from kslab.load.recipe import drive

    def run() -> LoadResult:
        # the endpoint opens and closes inside the record's load step: a port-forward that never comes up, or
        # whose restarts give up, fails the step and the record with its reason
        with opened() as target:
            cli.err.print(f"load {target.url}: {plan.mode}, {plan.connections} connections, {plan.workers} "
                          "worker(s)", highlight=False, markup=False)
            with _Progress(cli) as progress:
                return drive(target, plan, progress)
    return _recorded(cli, session, name, plan, output, run, strict, **inputs)


def _run_in_cluster(cli: CliContext, session: Session, name: str, protocol: str, payload: bytes | None, plan: Any,
                    pods: int, image: str | None, output: str | None, strict: bool) -> dict[str, Any]:
    from kslab.lab.incluster_load import load_in_cluster
    from kslab.load.jobspec import DEFAULT_IMAGE, pod_plan
    from kslab.load.recipe import request_body

    split = pod_plan(plan, pods)
    image = image or session.settings.load.image or None  # None: kslab's own image, built and loaded on kind/minikube
    body = payload if payload is not None else request_body(name, protocol)
    cli.err.print(f"load {name} in-cluster: {plan.mode}, {plan.connections} connections over {pods} pod(s)",
                  highlight=False, markup=False)

    def status(text: str) -> None:
        cli.err.print(text, highlight=False, markup=False)

    def drive() -> dict[str, Any]:
        return load_in_cluster(session, name, protocol=protocol, body=body, plan=split, image=image,
                               on_status=status)
    return _recorded(cli, session, name, split, output, drive, strict,
                     in_cluster={"pods": pods, "image": image or DEFAULT_IMAGE})


def _recorded(cli: CliContext, session: Session, name: str, plan: Any, output: str | None,
              drive: Callable[[], LoadResult | dict[str, Any]], strict: bool, **inputs: Any) -> dict[str, Any]:
    """Run ``drive`` as the run record's ``load`` step, judge it (kslab.load.verdict), then print the result like
    every load run; a failed run (nothing answered; under --ci a rate not reached) exits 1 after printing."""
    from kslab.cli.recording import announce
    from kslab.load.recipe import record_load
    from kslab.load.verdict import LoadFailed, judge
    from kslab.models.entries.steps import LOAD_STEP

    failure: LoadFailed | None = None
    with session.recorded("load", on_start=lambda started: announce(cli, started)) as record:
        try:
            result = record_load(record, LOAD_STEP, drive, judge(plan, strict=strict), model=name,
                                 plan=plan.to_dict(), **inputs)
        except LoadFailed as failed:
            record.finish("failed")
            result, failure = failed.result, failed
        if result["interrupted"]:
            record.finish("interrupted")
    _emit(cli, name, result | {"run_record": str(record.path)}, output)
    if failure is not None:
        raise failure
    rate = result.get("rate")
    if rate is not None and not rate["reached"]:
        from kslab.load.verdict import SHORTFALL_HINT, shortfall_text

        cli.err.print(f"warning: {shortfall_text(rate)}\nhint: {SHORTFALL_HINT} (--ci makes this a failure)",
                      highlight=False, markup=False)
    return result


def _emit(cli: CliContext, name: str, result: dict[str, Any], output: str | None) -> None:
    from kslab.cli.output import emit

    if (output or cli.settings.output) != "table":
        shown = {k: v for k, v in result.items() if k != "histogram"}
        if "pods" in shown:
            shown["pods"] = [{k: v for k, v in pod.items() if k != "histogram"} for pod in shown["pods"]]
        emit(cli, shown, output)
        return
    latency = result["latency"]
    rows = {"target": result["target"], "mode": result["mode"], "elapsed_s": result["elapsed_s"],
            "requests": result["requests"], "throughput_rps": result["throughput_rps"],
            "errors": result["errors"] or 0, "late": result["late"], "unfinished": result["unfinished"],
            **{k: v for k, v in latency.items() if k != "count"},
            "interrupted": result["interrupted"], "run_record": result["run_record"]}
    if "rate" in result:
        rows |= {"rate_target_rps": result["rate"]["target_rps"], "rate_reached": result["rate"]["reached"]}
    if "in_cluster" in result:
        rows |= {"pods": result["in_cluster"]["pods"], "job": result["in_cluster"]["job"]}
    emit(cli, rows, "table", title=f"kslab load {name}")
    if "pods" in result:
        emit(cli, [{"pod": p["pod"], "index": p["index"], "requests": p["requests"], "rps": p["throughput_rps"],
                    "p99_ms": p["latency"]["p99_ms"], "errors": p["error_total"]} for p in result["pods"]],
             "table", title="pods")
    if "steps" in result:
        emit(cli, [{"level": s["level"], "requests": s["requests"], "rps": s["throughput_rps"],
                    "p50_ms": s["latency"]["p50_ms"], "p99_ms": s["latency"]["p99_ms"], "errors": s["error_total"]}
                   for s in result["steps"]], "table", title="steps")


class _Progress:
    """elapsed, req/s, p99 and errors: a live line on a terminal, one line per second otherwise."""

    def __init__(self, cli: CliContext) -> None:
        self.console = cli.err
        self.live: Any = None

    def __enter__(self) -> _Progress:
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live("starting…", console=self.console, refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def __call__(self, live: dict[str, Any]) -> None:
        from kslab.load.aggregate import level_text

        p99 = "-" if live["p99_ms"] is None else f"{live['p99_ms']:.2f} ms"
        level = level_text(live.get("level"))
        line = (f"{live['elapsed_s']:>6.1f}s  " + (f"{level}  " if level else "")
                + f"{live['rps']:>9.1f} req/s  p99 {p99}  errors {live['errors']}"
                + ("  (warm-up)" if live["warmup"] else ""))
        if self.live is not None:
            self.live.update(line)
        else:
            self.console.print(line, highlight=False, markup=False)
