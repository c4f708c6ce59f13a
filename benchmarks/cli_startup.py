"""Time `kslab --help` against `python -c pass` measured in the same run, and print the ratio.

Goal: `kslab --help` under 0.3 s. Usage: python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _time(argv: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return samples


def _kslab_command() -> list[str]:
    beside = Path(sys.executable).parent / "kslab"
    found = str(beside) if beside.exists() else shutil.which("kslab")
    if found is None:
        sys.exit("kslab is not installed in this environment: pip install -e .")
    return [found]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--goal", type=float, default=0.3, help="seconds kslab --help should stay under")
    args = parser.parse_args()
    kslab = _kslab_command()
    _time([*kslab, "--help"], 2)  # warm the file cache and .pyc files
    baseline, help_times, version_times = [], [], []
    for _ in range(args.runs):  # interleave so drift hits all three alike
        baseline += _time([sys.executable, "-c", "pass"], 1)
        help_times += _time([*kslab, "--help"], 1)
        version_times += _time([*kslab, "version"], 1)
    base = statistics.median(baseline)
    rows = [("python -c pass", baseline), ("kslab --help", help_times), ("kslab version", version_times)]
    print(f"{'command':<16}{'median s':>10}{'p90 s':>10}{'ratio':>8}")
    for name, samples in rows:
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        print(f"{name:<16}{statistics.median(samples):>10.3f}{p90:>10.3f}{statistics.median(samples) / base:>8.1f}")
    verdict = "meets" if statistics.median(help_times) < args.goal else "MISSES"
    print(f"kslab --help {verdict} the {args.goal:.2f} s goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
