"""The per-second samples the compare gate measures noise with (kslab/report/noise.py), on a real lab record."""

from __future__ import annotations

import json
import math
from pathlib import Path

from kslab.report.noise import difference, samples, whole_seconds
from kslab.report.record import read_run

DATA = Path(__file__).parent / "report_data"


def _load(number: int):
    return read_run(json.loads((DATA / f"lab-local-{number}.json").read_text())).loads[0].result


def test_only_whole_seconds_of_one_level_are_samples():
    result = _load(1)
    rows = whole_seconds(result)
    kept = {(row.t, row.step) for row in rows}
    shared = {row.t for row in result.series if sum(r.t == row.t for r in result.series) > 1}
    assert shared and not {t for t, _ in kept} & shared  # a level ends inside these seconds
    assert max(row.t for row in result.series) not in {t for t, _ in kept}  # the run ends inside its last second
    assert not any(row.warmup for row in rows) and len(rows) == 16
    assert min(row.requests for row in rows) > 100  # no 1-request sliver left


def test_an_interval_is_the_change_of_the_geometric_mean_with_the_seconds_spread():
    old = samples(_load(1), "p99_ms")
    doubled = {level: [v + math.log(2) for v in values] for level, values in old.items()}
    interval = difference(old, doubled, 10)
    low, high = interval.pct_bounds
    assert round(interval.change_pct, 6) == 100.0 and 40 < low < 100 < high
    assert interval.baseline_n == interval.current_n == 16
    assert difference(old, samples(_load(2), "p99_ms"), 17) is None  # 16 seconds each: below the minimum
