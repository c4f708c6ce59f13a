"""HDR histograms of kslab.load: exact percentiles from known data, exact merging."""

from __future__ import annotations

import random

from hdrh.histogram import HdrHistogram

from kslab.load.histogram import LatencyRecorder, decode, encode, histogram_of, merge, new_histogram, summarize


def _direct(values: list[int]) -> HdrHistogram:
    histogram = new_histogram()
    for value in values:
        histogram.record_value(value)
    return histogram


def test_percentiles_of_a_known_sequence_are_exact_to_three_digits():
    recorder = LatencyRecorder()
    for value in range(1, 100_001):  # 1 µs … 100 ms, uniform
        recorder.record(value)
    summary = summarize(histogram_of(recorder.drain()))
    assert summary["count"] == 100_000
    expected = {"p50_ms": 50.0, "p90_ms": 90.0, "p95_ms": 95.0, "p99_ms": 99.0, "p99_9_ms": 99.9,
                "min_ms": 0.001, "max_ms": 100.0, "mean_ms": 50.0}
    for key, value in expected.items():
        assert abs(summary[key] - value) <= value * 0.001 + 0.001, (key, summary[key], value)


def test_recorder_equals_recording_every_value_directly():
    values = [int(random.lognormvariate(7, 1.5)) + 1 for _ in range(20_000)]
    recorder = LatencyRecorder()
    for value in values:
        recorder.record(value)
    ours, direct = histogram_of(recorder.drain()), _direct(values)
    assert ours.counts[:ours.counts_len] == direct.counts[:direct.counts_len]
    for percentile in (1, 50, 90, 99, 99.9, 100):
        assert ours.get_value_at_percentile(percentile) == direct.get_value_at_percentile(percentile)
    assert recorder.drain() == {}


def test_merged_histograms_equal_the_histogram_of_the_union():
    rng = random.Random(7)
    parts = [[rng.randint(1, 5_000_000) for _ in range(5_000)] for _ in range(4)]
    encoded = [encode(_direct(part)) for part in parts]
    merged = merge(encoded)
    union = _direct([v for part in parts for v in part])
    assert merged.get_total_count() == union.get_total_count() == 20_000
    assert merged.counts[:merged.counts_len] == union.counts[:union.counts_len]
    assert summarize(merged) == summarize(union)
    assert summarize(decode(encode(merged))) == summarize(union)
