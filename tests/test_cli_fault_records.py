"""What kslab prints and stores when things go wrong: redacted tracebacks, one bad run record among good ones,
and a disk that fills up mid-run."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path

import jsonschema
import pytest

from kslab.errors import UsageError
from kslab.exitcodes import ExitCode
from kslab.models.run_record import RunRecord
from kslab.paths import manifests_dir
from kslab.util.redact import MASK, register_secret
from tests.deploy_support import kslab
from tests.load_support import TestServer


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KSLAB_") or n == "GITHUB_STEP_SUMMARY"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KSLAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def _schema_errors(record: dict) -> list[str]:
    schema = json.loads((manifests_dir() / "schema" / "run-v1.schema.json").read_text())
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(record)]


# -- 10: --verbose tracebacks are redacted like every other line ---------------------------------------------

@pytest.mark.parametrize("error", [RuntimeError, UsageError], ids=["unexpected", "kslab-error"])
def test_verbose_traceback_masks_a_credential_the_server_echoed(here, capsys, monkeypatch, error) -> None:
    credential = f"tok-{secrets.token_hex(8)}"
    register_secret(credential)

    def echoed(*_args: object, **_kwargs: object) -> list:
        print(f"GET /runs Authorization: Bearer {credential}")  # a line a command prints
        raise error(f"401 from the API server: token {credential} is not valid")

    monkeypatch.setattr("kslab.report.runs.list_runs", echoed)
    code, out, err = kslab(capsys, "--verbose", "report", "--list")
    assert code == (ExitCode.USAGE if error is UsageError else ExitCode.CHECK_FAILED)
    assert "Traceback (most recent call last)" in err  # --verbose still shows where it failed
    assert credential not in out + err
    assert f"token {MASK} is not valid" in err and f"Bearer {MASK}" in out


# -- 11: one record of the wrong shape is refused alone ------------------------------------------------------

def _run(reports: Path, command: str) -> RunRecord:
    record = RunRecord(reports, command)
    with record.step("work") as observations:
        observations["answer"] = 42
    record.finish("ok")
    return record


def test_a_record_with_a_field_of_the_wrong_type_is_skipped_and_named(here, capsys) -> None:
    good = _run(here / "reports", "load")
    bad = _run(here / "reports", "lab")  # the newer one
    data = json.loads(bad.path.read_text())
    data["steps"] = 5
    bad.path.write_text(json.dumps(data))

    code, out, err = kslab(capsys, "-o", "json", "report", "--list")
    assert code == ExitCode.OK, err
    assert [r["run_id"] for r in json.loads(out)] == [good.run_id]
    assert f"skipped {bad.run_id}: " in err and "steps: expected" in err

    code, _, err = kslab(capsys, "report")  # latest: the newest valid run, rendered
    assert code == ExitCode.OK, err
    assert (good.dir / "report.md").is_file() and not (bad.dir / "report.md").exists()

    code, _, err = kslab(capsys, "report", bad.run_id)  # asked for by name: refused in one line
    assert code == ExitCode.USAGE and "Traceback" not in err and "unexpected" not in err
    assert "steps: expected" in err.splitlines()[0]


@pytest.mark.parametrize(("field", "value", "said"), [
    ("started_at", 1764770000, "started_at: expected string"),
    ("result", "passed", "result: expected one of ok, failed, interrupted, running"),
    ("settings", ["provider"], "settings: expected object"),
])
def test_header_fields_are_checked_against_the_run_schema(here, capsys, field, value, said) -> None:
    bad = _run(here / "reports", "lab")
    data = json.loads(bad.path.read_text())
    data[field] = value
    bad.path.write_text(json.dumps(data))
    code, _, err = kslab(capsys, "report", "--list")
    assert code == ExitCode.OK and said in err


# -- 12: a full disk names the file and the fix; the record keeps what was written -------------------------

def test_a_full_disk_names_the_record_and_the_fix_and_the_record_stays_valid(here, capsys, monkeypatch) -> None:
    real = tempfile.mkstemp
    writes = {"run.json": 0}

    def filling_up(suffix: str | None = None, prefix: str | None = None, dir: str | None = None, text: bool = False):
        if prefix == ".run.json.":
            writes["run.json"] += 1
            if writes["run.json"] > 2:  # the record and its first step were written; then the disk is full
                name = os.path.join(dir or ".", f"{prefix}full")
                return os.open("/dev/full", os.O_WRONLY), name  # the kernel answers ENOSPC to the write
        return real(suffix, prefix, dir, text)

    monkeypatch.setattr(tempfile, "mkstemp", filling_up)
    with TestServer() as server:
        code, _, err = kslab(capsys, "load", "sklearn-iris", "--url", server.url("/ok"), "--requests", "20")
    [record_path] = here.glob("reports/*-load-*/run.json")
    assert code == ExitCode.ENVIRONMENT, err
    assert "unexpected" not in err and "Traceback" not in err
    shown = record_path.relative_to(here)  # as the settings name it: reports_dir is relative
    assert f"error: cannot write {shown}: No space left on device" in err
    assert f"hint: free space on the disk holding {shown.parent} (df -h {shown.parent})" in err
    record = json.loads(record_path.read_text())  # what was written before the disk filled up, intact
    assert _schema_errors(record) == [] and [s["name"] for s in record["steps"]] == ["load"]
    assert not list(record_path.parent.glob(".run.json.*"))  # no half-written temporary left behind
