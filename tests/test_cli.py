"""The CLI shell: command list, exit codes, global options, error lines (run in-process like httpie)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from kslab.cli import main as cli_main
from kslab.cli.main import run
from kslab.exitcodes import ExitCode
from tests.versions_support import pins

PRODUCT_COMMANDS = ["up", "down", "status", "deploy", "undeploy", "predict", "smoke", "port-forward", "load",
                    "scenario", "doctor", "report", "lab", "version"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray kslab.yaml
    for name in [n for n in __import__("os").environ if n.startswith("KSLAB_")]:
        monkeypatch.delenv(name)


def test_help_lists_every_product_command(capsys):
    assert run(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    for command in PRODUCT_COMMANDS:
        assert f"\n  {command} " in out, command
    assert "Exit codes: 0 ok, 1 check failed" in out


def test_bare_kslab_prints_help_and_succeeds(capsys):
    assert run([]) == ExitCode.OK
    captured = capsys.readouterr()
    assert "Usage: kslab" in captured.out + captured.err


def test_doctor_needs_a_name_or_preflight(capsys):
    assert run(["doctor"]) == ExitCode.USAGE
    assert "name the InferenceService to diagnose, or use --preflight" in capsys.readouterr().err


def test_version_json_is_parseable_and_pins_the_default_stack(capsys):
    assert run(["-o", "json", "version"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    default = pins()  # manifests/stack/versions.yaml's default release, read as the file says it
    assert (data["kserve"], data["knative_serving"], data["istio"], data["cert_manager"]) == (
        default["kserve"], default["knative_serving"], default["istio"], default["cert_manager"])


def test_version_per_command_output_overrides_global(capsys):
    assert run(["-o", "json", "version", "-o", "yaml"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("kslab: ")
    assert f"kserve: {pins()['kserve']}" in out


def test_version_table_for_people(capsys):
    assert run(["--no-color", "version"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "KSERVE" in out and pins()["kserve"] in out
    assert "\x1b[" not in out


def test_kserve_version_from_env_changes_the_pins(capsys, monkeypatch):
    monkeypatch.setenv("KSLAB_KSERVE_VERSION", "0.15.2")
    assert run(["-o", "json", "version"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    old = pins("0.15")
    assert (data["kserve"], data["istio"], data["knative_serving"]) == (old["kserve"], old["istio"],
                                                                        old["knative_serving"])


def test_unknown_kserve_version_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setenv("KSLAB_KSERVE_VERSION", "0.9.0")
    assert run(["version"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: KServe version 0.9.0 is not in the version matrix")
    assert "hint: choose one of 0.15, 0.16, 0.17, 0.18, 0.19, 0.20" in err


def test_bad_output_value_is_usage_error(capsys):
    assert run(["-o", "xml", "version"]) == ExitCode.USAGE
    assert "output: 'xml' is not one of table, json, yaml" in capsys.readouterr().err


def test_unknown_command_is_usage_error(capsys):
    assert run(["deplyo"]) == ExitCode.USAGE
    assert "No such command 'deplyo'" in capsys.readouterr().err


def test_config_file_error_is_one_line_without_traceback(tmp_path, capsys):
    (tmp_path / "kslab.yaml").write_text("namespce: demo\n")
    assert run(["version"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "error: " in err and "unknown key 'namespce'" in err
    assert "hint: did you mean 'namespace'?" in err
    assert "Traceback" not in err


def test_explicit_missing_config_file(capsys):
    assert run(["--config", "nope.yaml", "version"]) == ExitCode.USAGE
    assert "config file nope.yaml does not exist" in capsys.readouterr().err


def test_verbose_shows_traceback(tmp_path, capsys):
    (tmp_path / "kslab.yaml").write_text("provider: docker-desktop\n")
    assert run(["--verbose", "version"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "provider: 'docker-desktop' is not one of kind, minikube, existing, local" in err


def test_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "_command", lambda: SimpleNamespace(main=interrupted))
    assert run(["version"]) == ExitCode.INTERRUPTED
    assert "interrupted" in capsys.readouterr().err


def test_unexpected_exception_is_one_line_unless_verbose(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(cli_main, "_command", lambda: SimpleNamespace(main=broken))
    assert run(["version"]) == ExitCode.CHECK_FAILED
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "error: unexpected ValueError: boom"
    assert run(["--verbose", "version"]) == ExitCode.CHECK_FAILED  # the traceback, printed redacted
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and 'raise ValueError("boom")' in err
    assert "error: unexpected ValueError: boom" in err
