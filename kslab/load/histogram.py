"""Latency histograms: HDR histograms (microseconds, 3 significant digits) and a cheap per-request recorder.

``hdrh``'s ``record_value`` costs ~3 µs in pure Python, too much at tens of thousands of requests per second.
The recorder therefore counts each latency under its HDR bucket's lowest equivalent value (a shift: with
3 significant digits and a lowest value of 1 the sub-bucket count is 2048) and hands the counts to a real
HdrHistogram when flushed. The result is identical to recording every value directly, and memory is
bounded by the number of HDR buckets, not by the number of requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: any latency a load run can see
SIGNIFICANT_DIGITS = 3
_SUB_BUCKET_BITS = 11  # 2048 sub-buckets for 3 significant digits
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p99_9": 99.9}


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def bucket_floor(value_us: int) -> int:
    """The lowest value HDR treats as equivalent to ``value_us`` (same bucket at 3 significant digits)."""
    shift = value_us.bit_length() - _SUB_BUCKET_BITS
    return value_us >> shift << shift if shift > 0 else value_us


class LatencyRecorder:
    """Counts latencies by HDR bucket; ``drain()`` returns and clears the counts."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}

    def record(self, value_us: int) -> None:
        """Count one latency (µs, >= 0; 0 counts as 1). Hot path: bucket_floor inlined."""
        shift = value_us.bit_length() - _SUB_BUCKET_BITS
        key = value_us >> shift << shift if shift > 0 else (value_us or LOWEST_US)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1

    def drain(self) -> dict[int, int]:
        counts, self.counts = self.counts, {}
        return counts


def histogram_of(counts: Mapping[int, int]) -> HdrHistogram:
    histogram = new_histogram()
    for value, count in counts.items():
        histogram.record_value(min(value, HIGHEST_US), count)
    return histogram


def encode(histogram: HdrHistogram) -> str:
    """The HDR histogram's standard compressed base64 form (decodable by any HdrHistogram library)."""
    return histogram.encode().decode("ascii")


def decode(text: str | bytes) -> HdrHistogram:
    return HdrHistogram.decode(text.encode("ascii") if isinstance(text, str) else text)


def merge(histograms: Iterable[HdrHistogram | str | bytes]) -> HdrHistogram:
    """One histogram holding every value of ``histograms`` (encoded or not); exact, bucket for bucket."""
    total = new_histogram()
    for item in histograms:
        if isinstance(item, HdrHistogram):
            total.add(item)
        else:
            total.decode_and_add(item.encode("ascii") if isinstance(item, str) else item)
    return total


def summarize(histogram: HdrHistogram) -> dict[str, Any]:
    """count, min, mean, p50 … p99.9, max in milliseconds (values are HDR-equivalent to 3 digits)."""
    count = histogram.get_total_count()
    if count == 0:
        return {"count": 0, "min_ms": None, "mean_ms": None, **{f"{k}_ms": None for k in PERCENTILES},
                "max_ms": None}
    out: dict[str, Any] = {"count": count, "min_ms": _ms(histogram.get_min_value()),
                           "mean_ms": _ms(histogram.get_mean_value())}
    for key, percentile in PERCENTILES.items():
        out[f"{key}_ms"] = _ms(histogram.get_value_at_percentile(percentile))
    out["max_ms"] = _ms(histogram.get_max_value())
    return out


def _ms(value_us: float) -> float:
    return round(value_us / 1000.0, 3)
