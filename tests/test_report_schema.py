"""The run schema (manifests/schema/run-v1.schema.json): real records of kslab commands validate against it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from kslab.models.run_record import SCHEMA
from kslab.paths import manifests_dir
from tests.deploy_support import kslab, lab_fixture  # noqa: F401  (fixture registration)
from tests.report_support import load_of, read, real_lab_run, real_load_run, with_scenarios


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((manifests_dir() / "schema" / "run-v1.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema"]["const"] == SCHEMA  # the document and the writer agree on the id
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, record: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(record)]


def test_a_real_lab_record_validates(validator, tmp_path_factory):
    record = read(real_lab_run(tmp_path_factory))
    assert {s["name"] for s in record["steps"]} >= {"model-build", "ready", "load", "smoke: v1 model ready"}
    assert _errors(validator, record) == []
    assert _errors(validator, with_scenarios(record)) == []


def test_a_real_load_record_validates(validator, tmp_path_factory):
    record = read(real_load_run(tmp_path_factory))
    assert load_of(record)["mode"] == "profile"
    assert _errors(validator, record) == []


def test_a_real_deploy_record_validates(validator, lab, capsys):
    lab.seed()
    code, _, err = kslab(capsys, "deploy", "sklearn-iris", "--timeout", "60")
    assert code == 0, err
    record = lab.record()
    assert record["command"] == "deploy" and {"render", "apply", "wait"} <= {s["name"] for s in record["steps"]}
    assert _errors(validator, record) == []


def test_a_killed_run_still_validates(validator, tmp_path_factory):
    record = copy.deepcopy(read(real_lab_run(tmp_path_factory)))
    record["result"], record["finished_at"] = "running", None
    last = record["steps"][-1]
    last.update(result="running", finished_at=None, duration_s=None)
    assert _errors(validator, record) == []


@pytest.mark.parametrize(("path", "value", "where"), [
    (("result",), "done", "result"),
    (("schema",), "kslab.run/v0", "schema"),
    (("steps", -1, "observations", "latency"), None, "steps/"),
    (("steps", 0, "started_at"), "yesterday", "steps/0/started_at"),
    (("scenarios", 0, "verdict"), "green", "scenarios/0/verdict"),
    (("scenarios", 0, "assertions", 0, "ok"), "yes", "scenarios/0/assertions/0/ok"),
])
def test_the_schema_rejects_a_broken_record(validator, tmp_path_factory, path, value, where):
    record = with_scenarios(read(real_lab_run(tmp_path_factory)))
    target = record
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    errors = _errors(validator, record)
    assert errors and any(e.startswith(where) for e in errors), errors


def test_the_schema_ships_with_the_data_files():
    assert (Path(__file__).resolve().parents[1] / "manifests" / "schema" / "run-v1.schema.json").is_file()
