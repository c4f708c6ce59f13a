"""The result line a load pod prints, and the merge of every pod's result into one run result.

A pod prints exactly one line ``KSLAB-LOAD-RESULT {json}`` as its last act: ``run_load``'s result (with
the encoded HDR histogram), the pod's completion index, its wall-clock start and its measured seconds.
Merging is exact where the data allows it: the histograms are added bucket for bucket (HDR decode-and-add),
counts and errors are summed, and throughput is OK answers over the longest pod's measured time.
The per-second series is merged by wall-clock second: rows of the same second and step are summed; their
``p50_ms``/``p99_ms`` are the largest of the pods' values (an upper bound of the merged percentile, since
no pod sends a histogram per second). Per-step latency of a profile run is merged the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from kslab.load.histogram import encode, merge, summarize

RESULT_PREFIX = "KSLAB-LOAD-RESULT "
_SUMMED = ("ok", "error_total", "late")
# What merge_results reads: a line without these came from a kslab too different to merge.
REQUIRED = frozenset({"histogram", "requests", "ok", "error_total", "late", "errors", "elapsed_s", "warmup_s", "mode",
                      "connections", "latency", "index", "started_at"})


def result_line(result: dict[str, Any], *, index: int, pod: str, started_at: float) -> str:
    """The one line a pod prints: prefix plus compact JSON (no newline inside)."""
    payload = dict(result, index=index, pod=pod, started_at=round(started_at, 3),
                   measured_s=round(measured_seconds(result), 3))
    return RESULT_PREFIX + json.dumps(payload, separators=(",", ":"), sort_keys=True)


def measured_seconds(result: dict[str, Any]) -> float:
    """Seconds that count for throughput: the run minus its warm-up (whole seconds, as Aggregate counts it)."""
    warmup = float(result.get("warmup_s") or 0.0)
    return max(float(result["elapsed_s"]) - (math.ceil(warmup) if warmup else 0.0), 0.0)


def parse_result_line(log: str) -> dict[str, Any] | None:
    """The last well-formed result line of a pod log, decoded; None when the pod printed none."""
    for line in reversed(log.splitlines()):
        if not line.startswith(RESULT_PREFIX):
            continue
        try:
            data = json.loads(line[len(RESULT_PREFIX):])
        except ValueError:
            continue
        if isinstance(data, dict) and data.keys() >= REQUIRED:
            return data
    return None


def merge_series(parts: Iterable[tuple[float, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Per-second rows of several pods, each shifted by its start offset (s), summed per (second, step)."""
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    for offset, series in parts:
        shift = round(offset)
        for row in series:
            key = (int(row["t"]) + shift, int(row["step"]))
            into = merged.get(key)
            if into is None:
                merged[key] = dict(row, t=key[0])
                continue
            for name in ("requests", "ok", "errors", "late"):
                into[name] = into.get(name, 0) + row.get(name, 0)
            for name in ("p50_ms", "p99_ms"):
                into[name] = _max(into.get(name), row.get(name))
            into["warmup"] = bool(into.get("warmup")) and bool(row.get("warmup"))
    return [merged[key] for key in sorted(merged)]


def merge_results(pods: list[dict[str, Any]], target: str) -> dict[str, Any]:
    """One result in ``run_load``'s shape from the pods' results (sorted by index), plus ``pods``."""
    pods = sorted(pods, key=lambda p: int(p["index"]))
    histogram = merge(p["histogram"] for p in pods)
    requests = sum(int(p["requests"]) for p in pods)
    longest = max((float(p.get("measured_s", measured_seconds(p))) for p in pods), default=0.0)
    errors: dict[str, int] = {}
    for pod in pods:
        for kind, count in (pod.get("errors") or {}).items():
            errors[kind] = errors.get(kind, 0) + int(count)
    first_start = min(float(p["started_at"]) for p in pods)
    summed = {name: sum(int(p.get(name) or 0) for p in pods) for name in _SUMMED}
    out: dict[str, Any] = {
        "target": target, "mode": pods[0]["mode"], "connections": sum(int(p["connections"]) for p in pods),
        "workers": len(pods), "warmup_s": pods[0]["warmup_s"],
        "elapsed_s": round(max(float(p["elapsed_s"]) for p in pods), 3),
        "interrupted": any(p.get("interrupted") for p in pods),
        "unfinished": sum(int(p.get("unfinished") or 0) for p in pods),
        "requests": requests, "ok": summed["ok"], "errors": dict(sorted(errors.items())),
        "error_total": summed["error_total"], "late": summed["late"],
        "throughput_rps": round(summed["ok"] / longest, 1) if longest > 0 else None,  # answered, not sent
        "latency": summarize(histogram),
        "histogram": encode(histogram),
    }
    if any("steps" in p for p in pods):
        out["steps"] = _merge_steps([p.get("steps") or [] for p in pods])
    out["series"] = merge_series((float(p["started_at"]) - first_start, p.get("series") or []) for p in pods)
    out["pods"] = [{k: v for k, v in p.items() if k != "series"} for p in pods]
    return out


def _merge_steps(per_pod: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for index in range(max((len(s) for s in per_pod), default=0)):
        rows = [s[index] for s in per_pod if index < len(s)]
        requests = sum(int(r["requests"]) for r in rows)
        errors: dict[str, int] = {}
        for row in rows:
            for kind, count in (row.get("errors") or {}).items():
                errors[kind] = errors.get(kind, 0) + int(count)
        rates = [float(r["throughput_rps"]) for r in rows if r.get("throughput_rps")]
        latency = _merge_latency([r["latency"] for r in rows])
        steps.append({"level": sum(float(r["level"]) for r in rows), "requests": requests,
                      "ok": sum(int(r["ok"]) for r in rows), "errors": dict(sorted(errors.items())),
                      "error_total": sum(int(r["error_total"]) for r in rows),
                      "late": sum(int(r["late"]) for r in rows),
                      "throughput_rps": round(sum(rates), 1) if rates else None,
                      "latency": latency, "latency_merge": "max over pods"})
    return steps


def _merge_latency(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """count summed, min the least, mean weighted by count, percentiles and max the largest (upper bounds)."""
    count = sum(int(s.get("count") or 0) for s in summaries)
    out: dict[str, Any] = {key: _max_all(s.get(key) for s in summaries) for key in summaries[0]}
    out["count"] = count
    mins = [s["min_ms"] for s in summaries if s.get("min_ms") is not None]
    out["min_ms"] = min(mins) if mins else None
    weighted = [(s["mean_ms"], int(s.get("count") or 0)) for s in summaries if s.get("mean_ms") is not None]
    out["mean_ms"] = round(sum(m * c for m, c in weighted) / count, 3) if count and weighted else None
    return out


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _max_all(values: Iterable[float | None]) -> float | None:
    out: float | None = None
    for value in values:
        out = _max(out, value)
    return out
