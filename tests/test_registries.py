"""Every name that lives in two places is the same in both: observer kinds, resource short names, actions, and
the keys of each typed run-record entry against the run schema (manifests/schema/run-v1.schema.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kslab.models import entries as E
from kslab.paths import manifests_dir
from kslab.scenarios import schema as S

DOCS = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"


def _docs_row(action: str) -> str:
    return next(line for line in DOCS.read_text().splitlines() if line.startswith(f"| `{action}` |"))


def test_observer_kinds_are_the_same_in_the_validator_the_registry_and_the_docs():
    from kslab.scenarios.observers import OBSERVERS

    documented = re.findall(r"`([a-z-]+)`", _docs_row("observe").split("An observer:")[1].split("(")[0])
    assert set(S.OBSERVER_KINDS) == set(OBSERVERS) == set(documented)
    assert set(E.OBSERVATIONS) <= set(S.OBSERVER_KINDS)  # the report reads these kinds' observations typed


def test_resource_short_names_are_the_same_in_the_validator_the_map_and_the_docs():
    from kslab.scenarios.resources import SHORT_NAMES

    line = next(line for line in DOCS.read_text().split("\n\n") if line.startswith("`resource` is one of:"))
    documented = re.findall(r"`([a-z]+)`", line.split("one of:")[1].split(".")[0])
    assert set(S.RESOURCE_KINDS) == set(SHORT_NAMES) == set(documented)


def test_actions_are_the_same_in_the_validator_the_dispatch_table_and_the_docs():
    from kslab.scenarios.actions import registry

    table = DOCS.read_text().split("### Actions")[1].split("###")[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert set(S.ACTIONS) == set(registry({})) == documented


@pytest.fixture(scope="module")
def defs() -> dict[str, Any]:
    return json.loads((manifests_dir() / "schema" / "run-v1.schema.json").read_text())["$defs"]


def _keys(schema: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    """The keys an object schema names: its properties and required keys, and those of the $defs it includes."""
    own = set(schema.get("properties", {})) | set(schema.get("required", []))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            own |= _keys(defs[part["$ref"].rsplit("/", 1)[1]], defs)
    return own


def _items(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    for key in path:
        schema = schema["properties"][key]
    return schema["items"]


def _entry_schemas(defs: dict[str, Any]) -> list[tuple[type[E.Entry], dict[str, Any]]]:
    scenario, load = defs["scenario"], defs["loadResult"]
    timelines = scenario["properties"]["timelines"]
    return [
        (E.Step, defs["step"]), (E.SmokeCheck, defs["smokeCheck"]), (E.Latency, defs["latency"]),
        (E.LoadResult, load), (E.LoadLevel, _items(load, "steps")), (E.SeriesRow, _items(load, "series")),
        (E.LoadEvent, _items(scenario, "events")), (E.ScenarioEntry, scenario),
        (E.ScenarioStep, _items(scenario, "steps")), (E.Assertion, _items(scenario, "assertions")),
        (E.Timelines, timelines), (E.ConditionChange, _items(timelines, "conditions")),
        (E.TrafficChange, _items(timelines, "traffic")),
        (E.TrafficTarget, _items(_items(timelines, "traffic"), "targets")),
        (E.ReplicaChange, _items(timelines, "replicas")), (E.PodChange, _items(timelines, "pods")),
    ]


def test_each_typed_entry_has_exactly_the_keys_the_run_schema_names(defs):
    mismatched = {}
    for entry, schema in _entry_schemas(defs):
        fields, named = set(E.json_fields(entry)), _keys(schema, defs)
        if fields != named:
            mismatched[entry.__name__] = {"only in the type": sorted(fields - named),
                                          "only in the schema": sorted(named - fields)}
    assert mismatched == {}


def test_every_record_entry_type_is_tied_to_the_schema(defs):
    """A new entry type must be added to the list above (and so to the schema)."""
    tied = {entry for entry, _ in _entry_schemas(defs)}
    observations = {E.TrafficSplit, E.ColdStart, E.LatencyLayers, E.RevisionShare,  # open objects in the schema
                    E.ModeComparison}  # $defs.modeComparison documents it
    declared = {value for value in vars(E).values()
                if isinstance(value, type) and issubclass(value, E.Entry) and value is not E.Entry}
    assert declared - observations == tied
