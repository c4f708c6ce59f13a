"""The scenario file format: typed objects and the fixed set of actions with their fields (docs/scenarios.md).

The validator lives in kslab/scenarios/validate.py; this module only says what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_ISVC = "sklearn-iris"
# Always in the template scope. standard_annotation: what the deploymentMode annotation reads after creating
# an InferenceService with RawDeployment (the 0.17+ webhook rewrites it to Standard).
# explainer_image: kslab's explainer image (manifests/images.yaml).
BUILTIN_NAMES = ("namespace", "mode", "kserve_version", "provider", "standard_annotation", "explainer_image")
PHASES = ("main", "catch", "finally")
# Short resource names a step may use (kslab.kube.resources refs; kslab/scenarios/resources.py maps them).
RESOURCE_KINDS = ("isvc", "ksvc", "revision", "route", "configuration", "deployment", "service", "hpa", "pod",
                  "ingress", "configmap", "podautoscaler")
OBSERVER_KINDS = ("traffic-split", "replicas", "resources", "cold-start", "latency-layers", "explain", "isvc",
                  "mode-ready", "footprint", "mode-rounds", "rollout", "scale-reaction", "mode-compare",
                  "canary-analysis", "canary-gates")
COMPARATORS = ("equals", "at_least", "at_most", "between", "approx", "is_true", "is_false")
MODES = ("knative", "standard")


@dataclass(frozen=True)
class Field:
    """One key: its kind (str, int, number, bool, duration, mapping, list, any) and constraints."""

    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionSpec:
    value: tuple[str, ...]  # accepted kinds of the action key's own value
    fields: dict[str, Field] = field(default_factory=dict)  # keys of a mapping value
    siblings: dict[str, Field] = field(default_factory=dict)  # extra keys on the step itself
    one_of: tuple[str, ...] = ()  # exactly one of these mapping keys
    help: str = ""


_TARGET = {"resource": Field("str", True, RESOURCE_KINDS), "name": Field("str", True)}
ACTIONS: dict[str, ActionSpec] = {
    "apply": ActionSpec(("mapping",), {
        "isvc": Field("str"), "manifest": Field("mapping"), "file": Field("str"), "values": Field("mapping"),
        "model_version": Field("str"), "storage_uri": Field("str"), "mode": Field("str", choices=MODES),
        "protocol": Field("str", choices=("v1", "v2")), "canary_percent": Field("int"),
        "annotations": Field("mapping"), "labels": Field("mapping"), "wait": Field("bool"),
        "standard_canary": Field("mapping"), "model_source": Field("str", choices=("catalog", "pvc")),
        "model": Field("str"), "predictor": Field("mapping")},
        one_of=("isvc", "manifest", "file"),
        help="an InferenceService rendered from manifests/isvc (isvc:), a file under manifests/, or a manifest"),
    "patch": ActionSpec(("mapping",), {**_TARGET, "merge": Field("mapping", True)},
                        help="a JSON merge patch on a named resource"),
    "annotate": ActionSpec(("mapping",), {**_TARGET, "annotations": Field("mapping", True)},
                           help="set (value null: remove) annotations"),
    "delete": ActionSpec(("mapping",), {**_TARGET, "wait": Field("bool"), "missing_ok": Field("bool")},
                         help="delete an object kslab created (label app.kubernetes.io/managed-by=kslab)"),
    "wait": ActionSpec(("mapping",), {
        **_TARGET, "condition": Field("str"), "status": Field("str", choices=("True", "False", "Unknown")),
        "generation": Field("bool"), "field": Field("str"), "equals": Field("any"), "absent": Field("bool")},
        one_of=("condition", "field", "absent"), help="a condition, a field value, or absence"),
    "traffic": ActionSpec(("mapping",), {
        "requests": Field("int"), "duration": Field("duration"), "concurrency": Field("int"),
        "rate": Field("number"), "protocol": Field("str", choices=("v1", "v2")), "background": Field("bool"),
        "timeout": Field("duration")}, help="a kslab load run against the managed endpoint"),
    "wait_traffic": ActionSpec(("str",), help="join a background traffic step"),
    "probe": ActionSpec(("mapping", "null"), {"batch_size": Field("int"), "host": Field("str")},
                        help="the smoke checks against the managed endpoint"),
    "observe": ActionSpec(("str",), siblings={"with": Field("mapping")}, help="an observer (with: its options)"),
    "assert": ActionSpec(("list",), help="checks on saved values"),
    "sleep": ActionSpec(("duration",), siblings={"why": Field("str", True)}, help="wait a fixed time (why: needed)"),
    "mark": ActionSpec(("str",), help="an event label on the timeline"),
    "collect": ActionSpec(("mapping", "null"), {
        "conditions": Field("bool"), "events": Field("bool"), "logs": Field("bool"), "tail": Field("int")},
        help="isvc conditions, namespace events and predictor pod logs"),
}
STEP_FIELDS: dict[str, Field] = {"name": Field("str", True), "timeout": Field("duration"), "save": Field("str"),
                                 "continue_on_failure": Field("bool"), "when": Field("bool")}
ASSERT_FIELDS: dict[str, Field] = {
    "name": Field("str"), "value": Field("str", True), "equals": Field("any"), "at_least": Field("number"),
    "at_most": Field("number"), "between": Field("list"), "approx": Field("number"), "tolerance": Field("number"),
    "is_true": Field("bool"), "is_false": Field("bool"), "message": Field("str")}
REQUIRES_FIELDS: dict[str, Field] = {"cluster": Field("bool"), "mode": Field("str", choices=MODES),
                                     "kserve": Field("str"), "because": Field("str")}
TOP_FIELDS: dict[str, Field] = {"name": Field("str", True), "description": Field("str"),
                                "requires": Field("mapping"), "params": Field("mapping"),
                                "steps": Field("list", True), "catch": Field("list"), "finally": Field("list")}


@dataclass(frozen=True)
class Step:
    name: str
    action: str
    value: Any  # the action key's value
    extra: dict[str, Any]  # sibling keys such as with: / why:
    phase: str = "main"
    index: int = 1  # 1-based within its phase
    timeout: Any = None  # a duration (seconds) or a "{param}" resolved at run time
    save: str | None = None
    continue_on_failure: bool = False
    when: Any = True  # false (or a "{param}" that is false) skips the step

    def describe(self) -> str:
        prefix = "" if self.phase == "main" else f"{self.phase} "
        return f'{prefix}step {self.index} "{self.name}"'


@dataclass(frozen=True)
class Requires:
    cluster: bool = False
    mode: str | None = None
    kserve: str | None = None  # e.g. ">=0.13" or ">=0.13,<0.20"
    because: str | None = None  # why, shown with the skip reason

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("cluster", self.cluster), ("mode", self.mode), ("kserve", self.kserve)) if v}


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str  # the file it came from
    requires: Requires
    params: dict[str, Any]
    steps: tuple[Step, ...]
    catch: tuple[Step, ...] = ()
    finally_: tuple[Step, ...] = ()
    param_specs: dict[str, Any] = field(default_factory=dict)  # name -> kslab.scenarios.params.ParamSpec

    @property
    def isvc(self) -> str:
        return str(self.params.get("name", DEFAULT_ISVC))
