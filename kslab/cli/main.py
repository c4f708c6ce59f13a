"""The kslab command: global options, command registration, and error-to-exit-code handling."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kslab.cli.commands import cluster, inference, model, scenario
from kslab.cli.commands.deploy import deploy, undeploy
from kslab.cli.commands.doctor import doctor
from kslab.cli.commands.lab import lab
from kslab.cli.commands.load import load
from kslab.cli.commands.port_forward import port_forward
from kslab.cli.commands.report import report
from kslab.cli.commands.version import version
from kslab.cli.context import CliContext
from kslab.errors import KslabError, UsageError
from kslab.exitcodes import ExitCode

EPILOG = """\b
Start here:
  kslab lab --provider local   the lab without Docker (real model server on 127.0.0.1)
  kslab lab                    the whole lab on a kind cluster
  kslab COMMAND --help         what a command does and its options

\b
Exit codes: 0 ok, 1 check failed, 2 bad input or not implemented yet,
            3 environment missing, 4 timeout, 130 interrupted."""

app = typer.Typer(
    name="kslab",
    help="Reproduce the KServe model-serving lab end to end and measure it: cluster, stack, "
         "InferenceService, inference smoke tests, canary/raw/autoscale scenarios, and a report.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    kubeconfig: Annotated[str | None, typer.Option(help="Kubeconfig file (default: kslab's own, then "
                                                   "$KUBECONFIG).", show_default=False)] = None,
    context: Annotated[str | None, typer.Option(help="Kubeconfig context to use.", show_default=False)] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="Namespace for InferenceServices "
                                                  "(default: kserve-test).", show_default=False)] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="table, json or yaml.",
                                               show_default=False)] = None,
    config: Annotated[str | None, typer.Option(help="Config file (default: ./kslab.yaml if present).",
                                               show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also: NO_COLOR=1).")] = False,
) -> None:
    """Global options apply to every command; kslab.yaml and KSLAB_* variables set the same keys."""
    from kslab.config import load_settings
    from kslab.session import Environment

    env = Environment.from_process()  # read once: KSLAB_* and the cwd for the settings, then every command
    overrides = {"kubeconfig": kubeconfig, "context": context, "namespace": namespace, "output": output,
                 "verbose": True if verbose else None, "color": False if no_color else None}
    ctx.obj = CliContext(settings=load_settings(config_path=config, overrides=overrides, env=env.environ,
                                                cwd=env.cwd), env=env)


app.command("version")(version)
app.command("up")(cluster.up)
app.command("down")(cluster.down)
app.command("status")(cluster.status)
app.command("doctor")(doctor)
app.command("lab")(lab)
app.command("deploy")(deploy)
app.command("undeploy")(undeploy)
app.command("predict")(inference.predict)
app.command("smoke")(inference.smoke)
app.add_typer(model.app, name="model")
app.command("port-forward")(port_forward)
app.command("load")(load)
app.add_typer(scenario.app, name="scenario")
app.command("report")(report)


def _verbose_requested(argv: list[str]) -> bool:
    return "--verbose" in argv or "-v" in argv


def _print_error(message: str, hint: str | None) -> None:
    from kslab.util.redact import redact

    print(f"error: {redact(message)}", file=sys.stderr)
    if hint:
        print(f"hint: {redact(hint)}", file=sys.stderr)


SCENARIO_SUBCOMMANDS = ("list", "run", "validate")


def _scenario_shorthand(args: list[str]) -> list[str]:
    """`kslab scenario canary ...` means `kslab scenario run canary ...` (the lab's own spelling)."""
    if "scenario" in args:
        index = args.index("scenario") + 1
        if index < len(args) and not args[index].startswith("-") and args[index] not in SCENARIO_SUBCOMMANDS:
            return [*args[:index], "run", *args[index:]]
    return args


def run(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app and map every outcome to an ExitCode.

    SIGTERM and SIGHUP unwind like Ctrl-C (kslab.util.signals) and everything printed is redacted."""
    from kslab.util.redact import redacted_output
    from kslab.util.signals import handled

    args = _scenario_shorthand(sys.argv[1:] if argv is None else list(argv))
    with redacted_output(), handled():
        return _run(args)


def _run(args: list[str]) -> int:
    from typer import _click  # typer vendors click; its exception classes live here

    click_exceptions = _click.exceptions
    try:
        result = _command().main(args=args, prog_name="kslab", standalone_mode=False)
        code = int(result) if isinstance(result, int) else ExitCode.OK
        if code == ExitCode.INTERRUPTED:  # typer returns 130 for a KeyboardInterrupt (Terminated included)
            code = _interrupted()
    except KslabError as exc:
        if _verbose_requested(args):
            _print_traceback()
        _print_error(exc.message, exc.hint)
        code = exc.exit_code
    except click_exceptions.NoArgsIsHelpError as exc:
        exc.show()  # bare `kslab` (like bare `kind`) prints help and succeeds
        code = ExitCode.OK
    except click_exceptions.ClickException as exc:  # bad flags: the same error/hint lines as every other error
        _print_error(exc.format_message(), _help_hint(exc))
        code = ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        code = _interrupted()
    except OSError as exc:  # a state or reports directory that is a file, or not writable: name it and the fix
        from kslab.cli.failures import describe

        if _verbose_requested(args):
            _print_traceback()
        _print_error(*describe(exc))
        code = ExitCode.ENVIRONMENT
    except Exception as exc:  # the last line of defence: one line, no traceback unless --verbose
        verbose = _verbose_requested(args)
        if verbose:
            _print_traceback()
        _print_error(f"unexpected {type(exc).__name__}: {exc}",
                     "please report it, with the traceback above" if verbose else
                     "run again with --verbose for the traceback, and please report it")
        code = ExitCode.CHECK_FAILED
    return int(code)


def _command() -> Any:
    """The click command tree Typer builds, with readable option values and examples (kslab.cli.helpfmt)."""
    from kslab.cli.helpfmt import label

    command = typer.main.get_command(app)
    label(command)
    return command


def _help_hint(exc: Exception) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "kslab"
    return f"'{path} --help' lists the options, with examples"


def _interrupted() -> int:
    """Say so and pick the code: 130 for Ctrl-C, 128 + the signal for SIGTERM/SIGHUP (kslab.util.signals)."""
    from kslab.util import signals

    received = signals.pending()
    print("interrupted" if received is None else f"interrupted ({signals.signal_name(received)})", file=sys.stderr)
    return signals.exit_code()


def _print_traceback() -> None:
    """The traceback of the exception being handled, each line redacted (a credential an API server echoed)."""
    import traceback

    from kslab.util.redact import redact

    print(redact(traceback.format_exc()), file=sys.stderr, end="")


def entry() -> None:
    sys.exit(run())


__all__ = ["UsageError", "app", "entry", "run"]
