"""Prometheus text exposition (what KServe's /metrics serves), read with prometheus_client's own parser.

The parser is lenient: an empty body parses as no metrics, and some garbage parses as an unknown metric.
``parse`` therefore also requires the metric family the caller came for to be present (declared by a
``# HELP`` / ``# TYPE`` line or sampled), so a proxy's error page, a JSON error body or an empty 200 raises
ValueError instead of reading as "no requests counted". KServe declares its histograms when the model server
starts (kserve/metrics.py), so the family is present before the first request, with no samples yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Sample(Protocol):
    """What the observers read of a sample (prometheus_client.samples.Sample has these fields)."""

    name: str
    labels: dict[str, str]
    value: float


def _declares(family: Any, name: str) -> bool:
    """True when ``family`` is ``name``: declared under that name, or a sample called ``name`` or ``name_<suffix>``
    (untyped exposition text names each sample line's family after the sample)."""
    if family.name == name:
        return True
    return any(s.name == name or s.name.startswith(f"{name}_") for s in family.samples)


def parse(text: str, family: str) -> list[Sample]:
    """Every sample in ``text``. ValueError when ``text`` is not exposition text, or lacks the family ``family``."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as exc:
        raise ValueError(f"not Prometheus exposition text ({exc}): {_head(text)}") from None
    if not any(_declares(f, family) for f in families):
        raise ValueError(f"no metric family {family!r} in the answer: {_head(text)}")
    return [s for f in families for s in f.samples]


def value(samples: Iterable[Sample], name: str, **labels: str) -> float | None:
    """The sum of the samples called ``name`` whose labels include ``labels``; None when there is none."""
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    return float(sum(found)) if found else None


def _head(text: str) -> str:
    stripped = text.strip()
    return repr(stripped[:80]) if stripped else "(empty body)"
