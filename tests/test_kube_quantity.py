"""Resource quantities: kslab's wrappers over the kubernetes client's parser (kubernetes.utils.quantity)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.utils.quantity import parse_quantity as library_parse

from kslab.kube.quantity import cpu_millis, format_cpu, format_memory, memory_bytes, parse_quantity

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests"


@pytest.mark.parametrize(("text", "millis"), [
    ("100m", 100), ("5m", 5), ("1", 1000), ("0.5", 500), (0.5, 500), (0.3, 300), (2, 2000), ("1e3", 1_000_000),
    ("2E3", 2_000_000), ("7950m", 7950), (None, 0), ("", 0), (" 250m ", 250),
])
def test_cpu_millis_pins_the_forms_in_specs(text, millis):
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(("text", "size"), [
    ("1Gi", 2**30), ("1.5Gi", 3 * 2**29), ("256Mi", 256 * 2**20), ("32803924Ki", 32803924 * 1024), ("1k", 1000),
    ("128M", 128 * 10**6), ("1E", 10**18), ("1e3", 1000), ("1073741824", 2**30), (None, 0),
])
def test_memory_bytes_pins_the_forms_in_specs(text, size):
    assert memory_bytes(text) == size


@pytest.mark.parametrize("text", ["abc", "1Gb", "1.2.3", "Mi", "1ki", "NaN", "Infinity", "-Inf", "1_000"])
def test_malformed_quantities_raise_value_error_naming_them(text):
    with pytest.raises(ValueError, match=f"not a Kubernetes quantity: '{text}'"):
        parse_quantity(text)


def _resource_values(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("requests", "limits", "allocatable", "capacity") and isinstance(value, dict):
                yield from (str(v) for k, v in value.items() if k in ("cpu", "memory") and isinstance(v, str | int))
            else:
                yield from _resource_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _resource_values(item)


def test_every_quantity_in_the_shipped_manifests_reads_as_the_kubernetes_client_reads_it():
    found = sorted({q for path in MANIFESTS.rglob("*.yaml") for doc in yaml.safe_load_all(path.read_text())
                    for q in _resource_values(doc) if "{" not in q})  # "{cpu}" is a template placeholder
    assert {"100m", "128Mi"} <= set(found), found  # the walk really reached the manifests' resources
    for text in [*found, "8", "32803924Ki", "7950m"]:  # + a kind node's allocatable
        assert parse_quantity(text) == library_parse(text), text
        assert cpu_millis(text) == int(library_parse(text) * 1000) and memory_bytes(text) == int(library_parse(text))


def test_formatting_round_trips_through_the_parser():
    for millis in (5, 100, 1000, 1500, 8000):
        assert cpu_millis(format_cpu(millis)) == millis
    for size in (2**30, 3 * 2**20, 1024, 1000):
        assert memory_bytes(format_memory(size)) == size
    assert parse_quantity("1Gi") == Decimal(2**30) and format_memory(32803924 * 1024) == "32803924Ki"
