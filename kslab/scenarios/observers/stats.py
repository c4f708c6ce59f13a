"""Arithmetic the observers share: binomial tolerance of an observed share, counter deltas, medians."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

Z_999 = 3.29  # two-sided 99.9 % of the normal distribution


def binomial_tolerance_points(percent: float, total: int, z: float = Z_999) -> float:
    """Half-width, in percentage points, of the interval an observed share of ``total`` requests routed
    with probability ``percent`` % falls in with the confidence of ``z`` (normal approximation)."""
    if total <= 0:
        return math.inf
    p = min(max(percent / 100.0, 0.0), 1.0)
    return z * math.sqrt(p * (1.0 - p) / total) * 100.0


def counter_delta(before: float | None, after: float | None) -> float:
    """How much a cumulative counter grew; a counter that went down was reset (pod restart): count from 0."""
    if after is None:
        return 0.0
    if before is None or after < before:
        return after
    return after - before


def median_ms(samples: Sequence[float]) -> float | None:
    return round(statistics.median(samples), 3) if samples else None
