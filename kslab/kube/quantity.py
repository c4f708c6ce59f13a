"""Kubernetes resource quantities ("100m", "1", "256Mi", "1.5Gi", "2e3") as numbers, read by the kubernetes client's
own parser (kubernetes.utils.quantity)."""

from __future__ import annotations

from decimal import Decimal


def parse_quantity(value: str | int | float | None) -> Decimal:
    """The quantity in base units (cores, bytes); None or "" is zero. Raises ValueError when malformed."""
    from kubernetes.utils.quantity import parse_quantity as parse

    if value is None or value == "":
        return Decimal(0)
    text = str(value).strip()  # str() first: Decimal(0.3) would be 0.29999..., and the CPU 299 millicores
    if "_" in text:  # Decimal reads "1_000"; the Kubernetes quantity grammar has no digit separators
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    try:
        number = parse(text)
    except ValueError:
        raise ValueError(f"not a Kubernetes quantity: {text!r}") from None
    if not number.is_finite():  # Decimal reads "NaN" and "Infinity"; Kubernetes does not
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return number


def cpu_millis(value: str | int | float | None) -> int:
    return int(parse_quantity(value) * 1000)


def memory_bytes(value: str | int | float | None) -> int:
    return int(parse_quantity(value))


def format_cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_memory(size: int) -> str:
    for suffix, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{suffix}"
    if size >= 2**20:
        return f"{size / 2**20:.0f}Mi"
    return str(size)
