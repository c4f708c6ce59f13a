"""Typed run-record entries: what services write into run.json and the report reads.

Each is a frozen dataclass with ``from_dict`` (checks the shape; a wrong field is an EntryError naming it)
and ``to_dict`` (the JSON it was read from, key for key). Base layer: imports only kslab.errors.
"""

from kslab.models.entries.codec import Entry, EntryError, json_fields
from kslab.models.entries.load import Latency, LoadEvent, LoadLevel, LoadResult, SeriesRow
from kslab.models.entries.observations import (
    OBSERVATIONS,
    ColdStart,
    LatencyLayers,
    ModeComparison,
    Observation,
    RevisionShare,
    TrafficSplit,
    observation,
)
from kslab.models.entries.scenario import (
    Assertion,
    ConditionChange,
    PodChange,
    ReplicaChange,
    ScenarioEntry,
    ScenarioStep,
    Timelines,
    TrafficChange,
    TrafficTarget,
)
from kslab.models.entries.steps import SMOKE_PREFIX, SmokeCheck, Step

__all__ = [
    "OBSERVATIONS", "SMOKE_PREFIX", "Assertion", "ColdStart", "ConditionChange", "Entry", "EntryError", "Latency",
    "LatencyLayers", "LoadEvent", "LoadLevel", "LoadResult", "ModeComparison", "Observation", "PodChange",
    "ReplicaChange", "RevisionShare", "ScenarioEntry", "ScenarioStep", "SeriesRow", "SmokeCheck", "Step", "Timelines",
    "TrafficChange", "TrafficSplit", "TrafficTarget", "json_fields", "observation",
]
