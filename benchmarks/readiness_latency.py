"""How fast does kslab notice a Ready transition? Its watch-based wait vs a 1 s poll loop, same run.

Starts the fake API server from tests/fakecluster (no controllers), creates an InferenceService, and
per trial flips Ready=True at a random moment while a waiter runs; prints the delay between the flip
and the waiter returning. Goal: kslab's median <= 0.2 s. Usage: python benchmarks/readiness_latency.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kslab.kube import resources as R
from kslab.kube.client import Kube
from kslab.kube.conditions import condition_is
from kslab.kube.wait import wait_for
from tests.fakecluster.cluster import FakeCluster
from tests.fakecluster.resources import by_key

ISVC = by_key("serving.kserve.io/inferenceservices")


def set_ready(cluster: FakeCluster, status: str) -> None:
    def change(obj: dict) -> None:
        obj["status"] = {"observedGeneration": obj["metadata"]["generation"],
                         "conditions": [{"type": "Ready", "status": status}]}
    cluster.store.mutate(ISVC, "bench", "sklearn-iris", change, subresource="status")


def watch_waiter(kube: Kube) -> None:
    wait_for(kube, R.INFERENCE_SERVICE, "sklearn-iris", "bench", lambda o: condition_is(o, "Ready"),
             timeout=30, what="Ready")


def poll_waiter(kube: Kube) -> None:
    while not condition_is(kube.find(R.INFERENCE_SERVICE, "sklearn-iris", "bench"), "Ready"):
        time.sleep(1.0)


def trial(cluster: FakeCluster, waiter: Callable[[], None], rng: random.Random) -> float:
    set_ready(cluster, "False")
    done = threading.Event()
    finished_at = [0.0]

    def run() -> None:
        waiter()
        finished_at[0] = time.perf_counter()
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3 + rng.random())  # the waiter is inside its watch / between polls
    flipped_at = time.perf_counter()
    set_ready(cluster, "True")
    done.wait(10)
    return finished_at[0] - flipped_at


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--goal", type=float, default=0.2)
    args = parser.parse_args()
    rng = random.Random(7)
    with FakeCluster(controllers=False) as cluster, tempfile.TemporaryDirectory() as tmp:
        kubeconfig = cluster.write_kubeconfig(Path(tmp) / "kubeconfig")
        cluster.store.create(by_key("/namespaces"), None, {"metadata": {"name": "bench"}})
        cluster.store.create(ISVC, "bench", {"metadata": {"name": "sklearn-iris"}, "spec": {"predictor": {}}})
        kube = Kube(str(kubeconfig))
        kube.version()  # connection and discovery warm-up, outside the timings
        kube.find(R.INFERENCE_SERVICE, "sklearn-iris", "bench")
        results = {"kslab watch": [], "1 s poll": []}
        for _ in range(args.trials):  # interleaved, so machine noise hits both alike
            results["kslab watch"].append(trial(cluster, lambda: watch_waiter(kube), rng))
            results["1 s poll"].append(trial(cluster, lambda: poll_waiter(kube), rng))
    print(f"{'waiter':<14}{'median s':>10}{'p90 s':>10}{'max s':>10}")
    for name, samples in results.items():
        ordered = sorted(samples)
        print(f"{name:<14}{statistics.median(ordered):>10.3f}{ordered[int(0.9 * (len(ordered) - 1))]:>10.3f}"
              f"{ordered[-1]:>10.3f}")
    watch, poll = (statistics.median(results[k]) for k in ("kslab watch", "1 s poll"))
    print(f"ratio poll/watch: {poll / watch:.1f}x; kslab {'meets' if watch <= args.goal else 'MISSES'} "
          f"the {args.goal:.2f} s goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
