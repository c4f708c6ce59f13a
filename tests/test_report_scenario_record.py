"""A real scenario run (`kslab scenario run canary` on the fake cluster, real model servers behind the harness
router): its record validates against the run schema and renders with the canary split and the scenario suite."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from kslab.paths import manifests_dir
from kslab.report.render import render_all
from tests.scenario_harness.fixture import (  # noqa: F401  (fixtures)
    ScenarioLab,
    lab_fixture,
    scenario_lab_fixture,
    scenario_runtimes_fixture,
)

FAST = ("--set", "requests=200", "--set", "ready_timeout=30s")


def test_a_real_canary_record_validates_and_renders(scenario_lab: ScenarioLab, capsys: pytest.CaptureFixture[str]):
    code, _, err = scenario_lab.kslab(capsys, "scenario", "run", "canary", *FAST)
    assert code == 0, err
    [run_json] = scenario_lab.lab.records()
    record = json.loads(run_json.read_text())
    [entry] = record["scenarios"]
    assert entry["verdict"] == "passed"
    schema = json.loads((manifests_dir() / "schema" / "run-v1.schema.json").read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft202012Validator(schema).iter_errors(record)]
    assert errors == []

    paths = render_all(run_json.parent)
    root = ET.fromstring(paths["junit"].read_text())
    suite = root.find("testsuite[@name='scenario canary']")
    assert int(suite.get("tests")) == len(entry["assertions"]) > 0 and suite.get("failures") == "0"
    assert "scenario:canary" not in {c.get("name") for c in root.iter("testcase")}  # its suite, not a step too
    html = paths["html"].read_text()
    assert "Canary split — canary" in re.findall(r"<figcaption>([^<]*)</figcaption>", html)
    markdown = paths["md"].read_text()
    assert "| ✅ canary | passed |" in markdown
