"""kslab lab: the whole experiment in one command (a thin wrapper over kslab.lab.experiment)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kslab.cli.context import CliContext, current
from kslab.cli.options import OutputOption
from kslab.cli.output import emit
from kslab.cli.recording import run_recorded

if TYPE_CHECKING:
    from kslab.models.run_record import RunRecord


def lab(
    ctx: typer.Context,
    provider: Annotated[str | None, typer.Option("--provider", help="local (no Docker: the real KServe model "
                                                 "server on 127.0.0.1), kind, minikube or existing.",
                                                 show_default=False)] = None,
    scenarios: Annotated[str | None, typer.Option(help="Comma list of scenarios to run, 'all' or 'none' "
                                                  "(default: lab.scenarios in kslab.yaml, i.e. all).",
                                                  show_default=False)] = None,
    load: Annotated[bool, typer.Option("--load/--no-load", help="Measure the lab's load profile "
                                       "(lab.load_profile) after the scenarios.")] = True,
    ci: Annotated[bool, typer.Option("--ci", help="CI mode: plain log lines instead of a live view, report "
                                     "(Markdown, JUnit, HTML) written and added to $GITHUB_STEP_SUMMARY; the "
                                     "exit code is the verdict.")] = False,
    keep: Annotated[bool, typer.Option("--keep/--no-keep", help="Leave the model deployed afterwards "
                                       "(provider local; a cluster is always kept unless --down).")] = False,
    down: Annotated[bool, typer.Option("--down", help="Delete the cluster at the end, if kslab created it.")
                    ] = False,
    output: OutputOption = None,
) -> None:
    """Run the whole lab and write its report.

    preflight, up (cluster providers), deploy, smoke over V1 and V2, the scenarios (canary, raw-mode,
    autoscale, ...; skipped with the reason on provider local), a load profile, then the report:
    reports/<run-id>/{run.json, report.md, junit.xml, report.html}. Exit 0 only when every check that
    ran passed; the record and the report are written either way.
    """
    from kslab.lab.experiment import LabOptions, check_settings, run_lab

    cli = current(ctx)
    session = cli.session(provider=provider)
    settings = session.settings
    options = LabOptions(keep=keep, down=down, scenarios=scenarios, load=load)
    check_settings(settings, options)  # the whole config before any work: a bad value names its key
    result, record = run_recorded(cli, session, "lab", f"kslab lab ({settings.provider})",
                                  lambda _record, observe: run_lab(session, observe, options),
                                  live=False if ci else None, after=lambda rec: _report(cli, rec))
    smoke = result.smoke.to_dict() if result.smoke else {}
    counts = {"passed": smoke.get("passed", 0), "failed": smoke.get("failed", 0)}  # numbers for -o json
    if (output or settings.output) == "table":
        counts = f"{counts['passed']} passed, {counts['failed']} failed"  # type: ignore[assignment]
    emit(cli, {"provider": settings.provider, "smoke": counts,
               "scenarios": {s["name"]: s.get("verdict") for s in result.scenarios},
               "throughput_rps": (result.load or {}).get("throughput_rps"),
               "p99_ms": ((result.load or {}).get("latency") or {}).get("p99_ms"),
               "skipped": result.skipped, "run_record": str(record.path)}, output, title="kslab lab")


def _report(cli: CliContext, record: RunRecord) -> None:
    """Render the finished record; a rendering problem is reported but never hides the run's own outcome."""
    from kslab.errors import KslabError
    from kslab.report.render import render_all

    try:
        paths = render_all(record.dir, environ=cli.env.environ)  # appended only where $GITHUB_STEP_SUMMARY is set
    except (KslabError, OSError, ValueError) as exc:
        cli.err.print(f"report: not rendered: {exc}", highlight=False, markup=False)
        return
    except Exception as exc:  # a renderer's bug must not turn an interrupted or failed run into "unexpected"
        cli.err.print(f"report: not rendered: unexpected {type(exc).__name__}: {exc}", highlight=False,
                      markup=False)
        return
    for kind, path in paths.items():
        cli.err.print(f"report ({kind}): {path}", highlight=False, markup=False)
