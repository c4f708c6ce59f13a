"""The one configuration model of kslab: what kslab.yaml, KSLAB_* variables and global flags set.

Every field has a type, a default and (where it is a choice) the allowed values; ``from_mapping``
validates a nested mapping against it and reports unknown keys and bad values with their path.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, get_args, get_type_hints

from kslab.errors import ConfigError

PROVIDERS = ("kind", "minikube", "existing", "local")
MODES = ("knative", "standard")
OUTPUTS = ("table", "json", "yaml")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_VERSION = re.compile(r"^v?\d+\.\d+(\.\d+)?$")
_DURATION = r"\d+(\.\d+)?\s*(ms|s|m|h)?"  # as kslab.util.durations reads them
_PROFILE = re.compile(rf"^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*@\s*{_DURATION}\s*$")


def choice(*values: str, default: str) -> Any:
    return field(default=default, metadata={"choices": values})


def name_field(default: str) -> Any:
    return field(default=default, metadata={"pattern": _K8S_NAME, "what": "a lowercase DNS-1123 label"})


@dataclass
class KindSettings:
    node_image: str | None = None  # default: the pinned image of the chosen KServe release
    workers: int = field(default=0, metadata={"min": 0, "max": 8})
    # None: no host port mapping (kslab reaches the gateway through kubectl port-forward). A port: kind maps
    # 127.0.0.1:<port> to NodePort 31080 and kslab makes the gateway's http2 port that NodePort.
    ingress_host_port: int | None = field(default=None, metadata={"min": 1, "max": 65535})


@dataclass
class MinikubeSettings:
    profile: str = name_field("kslab")
    cpus: int = field(default=4, metadata={"min": 1})
    memory_mb: int = field(default=8192, metadata={"min": 1024})
    driver: str = "docker"
    kubernetes_version: str | None = None


@dataclass
class Timeouts:
    """Seconds each kind of wait may take."""

    install: int = field(default=600, metadata={"min": 1})
    # 600 s as KServe's SDK waits for an InferenceService (kserve/kserve@v0.20.0:python/kserve/kserve/api/
    # kserve_client.py wait_isvc_ready) and Knative's default progress-deadline (knative/serving
    # config/core/configmaps/deployment.yaml): a first image pull on a kind node can take minutes.
    deploy: int = field(default=600, metadata={"min": 1})
    request: int = field(default=30, metadata={"min": 1})


@dataclass
class LabSettings:
    """What `kslab lab` runs after deploy and smoke."""

    scenarios: str = "all"  # comma list of scenario names, "all" or "none"
    # steps of concurrency: the throughput-vs-concurrency curve
    load_profile: str = field(default="1,5,10,20@5s", metadata={
        "pattern": _PROFILE, "what": "steps of concurrency and a step duration, like 1,5,10,20@5s"})
    load_warmup: str = field(default="1s", metadata={
        "pattern": re.compile(rf"^\s*{_DURATION}\s*$"), "what": "a duration, like 1s or 500ms"})


@dataclass
class LoadSettings:
    """`kslab load --in-cluster`: the generator image ("" = kslab/load:<kslab version>, built and loaded by kslab)."""

    image: str = ""


@dataclass
class StorageSettings:
    """Before deploying a gs:// or http(s):// model URI, check from this machine that it exists."""

    check_public_uris: bool = True
    gcs_api: str = "https://storage.googleapis.com"  # the Cloud Storage JSON API the check lists objects with


@dataclass
class ReportThresholds:
    """`kslab report --compare`: a change past one of these against the baseline exits 1 (a CI gate)."""

    p99_increase_pct: int = field(default=20, metadata={"min": 0})
    throughput_decrease_pct: int = field(default=20, metadata={"min": 0})
    scenario_newly_failing: bool = True
    check_newly_failing: bool = True


@dataclass
class ReportSettings:
    thresholds: ReportThresholds = field(default_factory=ReportThresholds)


@dataclass
class Settings:
    provider: str = choice(*PROVIDERS, default="kind")
    cluster_name: str = name_field("kslab")
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str = name_field("kserve-test")
    kserve_version: str = field(default="0.20.0", metadata={"pattern": _VERSION, "what": "a version like 0.20.0"})
    mode: str = choice(*MODES, default="knative")
    output: str = choice(*OUTPUTS, default="table")
    verbose: bool = False
    color: bool = True
    reports_dir: str = "reports"
    kind: KindSettings = field(default_factory=KindSettings)
    minikube: MinikubeSettings = field(default_factory=MinikubeSettings)
    timeouts: Timeouts = field(default_factory=Timeouts)
    load: LoadSettings = field(default_factory=LoadSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    lab: LabSettings = field(default_factory=LabSettings)
    report: ReportSettings = field(default_factory=ReportSettings)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _coerce(path: str, value: Any, hint: Any, meta: dict[str, Any]) -> Any:
    members = [a for a in get_args(hint) if a is not type(None)]
    optional = type(None) in get_args(hint)
    base = (members[0] if members else hint).__name__
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{path}: a value is required", f"remove the key to use the default, or set {path}")
    if base == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    if base == "int":
        if isinstance(value, bool):
            raise ConfigError(f"{path}: expected a whole number, got {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: expected a whole number, got {value!r}") from None
        if "min" in meta and number < meta["min"]:
            raise ConfigError(f"{path}: {number} is below the minimum {meta['min']}")
        if "max" in meta and number > meta["max"]:
            raise ConfigError(f"{path}: {number} is above the maximum {meta['max']}")
        return number
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ConfigError(f"{path}: expected a string, got {value!r}")
    text = str(value)
    if "choices" in meta and text not in meta["choices"]:
        raise ConfigError(f"{path}: {text!r} is not one of {', '.join(meta['choices'])}")
    if "pattern" in meta and not meta["pattern"].match(text):
        raise ConfigError(f"{path}: {text!r} is not {meta['what']}")
    return text


def from_mapping(cls: type, data: dict[str, Any], path: str = "") -> Any:
    """Build ``cls`` (a settings dataclass) from a nested mapping, validating every key and value."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        key_path = f"{path}.{key}" if path else str(key)
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(fields)}"
            raise ConfigError(f"unknown key '{key_path}'", hint)
        hint_type = hints[key]
        if dataclasses.is_dataclass(hint_type):
            values[key] = from_mapping(hint_type, value or {}, key_path)
        else:
            values[key] = _coerce(key_path, value, hint_type, dict(fields[key].metadata))
    return cls(**values)
