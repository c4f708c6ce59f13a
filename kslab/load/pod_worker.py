"""Entry point of one in-cluster load pod: ``python -m kslab.load.pod_worker``.

Reads the WorkerSpec from $KSLAB_LOAD_SPEC and its share from $JOB_COMPLETION_INDEX (set by the Job
controller in Indexed mode), resolves the model's cluster host once (so connections do not each pay for
the cluster DNS search path), runs ``run_load`` and prints one ``KSLAB-LOAD-RESULT {json}`` line last.
Progress goes to stderr. Exit 0 with a result, 1 (and a one-line reason on stderr) without one.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from kslab.load.http import Target
from kslab.load.jobspec import INDEX_ENV, SPEC_ENV, WorkerSpec
from kslab.load.podresult import result_line


def resolve(target: Target) -> Target:
    """The same request (Host header unchanged) aimed at the first address the host name resolves to."""
    infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    address, port = infos[0][4][0], infos[0][4][1]
    return dataclasses.replace(target, host=str(address), port=int(port))


def _progress(live: dict[str, Any]) -> None:
    print(f"{live['elapsed_s']:>6.1f}s {live['rps']:>9.1f} req/s errors {live['errors']}", file=sys.stderr,
          flush=True)


def main(environ: dict[str, str] | None = None) -> int:
    from kslab.load.runner import run_load

    env = os.environ if environ is None else environ
    try:
        spec = WorkerSpec.from_json(env[SPEC_ENV])
        index = int(env.get(INDEX_ENV, "0"))
    except (KeyError, ValueError, TypeError) as exc:
        print(f"kslab-load: no usable {SPEC_ENV}/{INDEX_ENV}: {exc!r}", file=sys.stderr)
        return 1
    if not 0 <= index < spec.plan.workers:
        print(f"kslab-load: {INDEX_ENV}={index} is outside 0..{spec.plan.workers - 1}", file=sys.stderr)
        return 1
    target = Target.build(spec.url, "", spec.body)
    try:
        target = resolve(target)
    except OSError as exc:
        print(f"kslab-load: cannot resolve {urlsplit(spec.url).hostname}: {exc}", file=sys.stderr)
        return 1
    plan = spec.plan.for_worker(index)
    print(f"kslab-load: pod {index} of {spec.plan.workers}: {plan.mode}, {plan.connections} connections -> "
          f"{spec.url} ({target.host}:{target.port})", file=sys.stderr, flush=True)
    started_at = time.time()
    result = run_load(target, plan, _progress)
    result["target"] = spec.url
    print(result_line(result, index=index, pod=env.get("HOSTNAME", ""), started_at=started_at), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
