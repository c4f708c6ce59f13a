"""Failure signatures as data: manifests/diagnosis/signatures.yaml, matched against collected evidence.

Pure logic, no cluster access: ``diagnose(evidence)`` returns the matching signatures in file order, the
first one naming the stuck layer. Collecting the evidence lives in kslab/doctor/isvc.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kslab.errors import ConfigError
from kslab.paths import manifests_dir
from kslab.stack.components import fill

SOURCES = ("api", "condition", "revision", "model", "event", "controller", "pod", "log", "url")


@dataclass(frozen=True)
class Evidence:
    source: str  # one of SOURCES
    text: str  # one line
    reason: str = ""
    where: str = ""  # "pod/container", "InferenceService/name", ...

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "text": self.text, "reason": self.reason, "where": self.where}


@dataclass(frozen=True)
class Matcher:
    source: str
    reason: str | None = None
    contains: tuple[str, ...] = ()
    where: str | None = None

    def matches(self, item: Evidence) -> bool:
        return (item.source == self.source and (self.reason is None or item.reason == self.reason)
                and all(text in item.text for text in self.contains)
                and (self.where is None or self.where in item.where))


@dataclass(frozen=True)
class Signature:
    id: str
    layer: str
    explanation: str
    fix: str
    match: tuple[Matcher, ...] = field(default_factory=tuple)

    def first_match(self, evidence: list[Evidence]) -> Evidence | None:
        """The evidence the first matching entry finds: entries are in order of preference (a log line
        is better evidence than the status field that copies it)."""
        for matcher in self.match:
            for item in evidence:
                if matcher.matches(item):
                    return item
        return None


@dataclass(frozen=True)
class Finding:
    id: str
    layer: str
    explanation: str
    fix: str
    evidence: Evidence

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "layer": self.layer, "explanation": self.explanation, "fix": self.fix,
                "evidence": self.evidence.to_dict()}


def _matcher(raw: dict[str, Any], where: str) -> Matcher:
    unknown = set(raw) - {"source", "reason", "contains", "where"}
    if unknown or raw.get("source") not in SOURCES:
        raise ConfigError(f"{where}: a match needs source one of {', '.join(SOURCES)} and only reason/contains/"
                          f"where (got {sorted(raw)})")
    contains = raw.get("contains") or []
    if isinstance(contains, str):
        contains = [contains]
    if raw.get("reason") is None and not contains:
        raise ConfigError(f"{where}: a match needs a reason or contains")
    return Matcher(str(raw["source"]), raw.get("reason"), tuple(str(c) for c in contains), raw.get("where"))


def load_signatures(path: Path | None = None) -> list[Signature]:
    source = path or manifests_dir() / "diagnosis" / "signatures.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    out = []
    for index, item in enumerate(raw.get("signatures") or []):
        where = f"{source.name}: signature {item.get('id', index)}"
        missing = {"id", "layer", "explanation", "fix", "match"} - set(item)
        if missing:
            raise ConfigError(f"{where}: missing {sorted(missing)}")
        out.append(Signature(str(item["id"]), str(item["layer"]), " ".join(str(item["explanation"]).split()),
                             " ".join(str(item["fix"]).split()),
                             tuple(_matcher(m, where) for m in item["match"])))
    return out


def diagnose(evidence: list[Evidence], values: dict[str, str], signatures: list[Signature] | None = None
             ) -> list[Finding]:
    """Every matching signature, in file order; ``values`` fill {name}/{namespace} in explanation and fix."""
    findings = []
    for signature in signatures if signatures is not None else load_signatures():
        item = signature.first_match(evidence)
        if item is not None:
            findings.append(Finding(signature.id, signature.layer, fill(signature.explanation, values, "signatures"),
                                    fill(signature.fix, values, "signatures"), item))
    return findings
