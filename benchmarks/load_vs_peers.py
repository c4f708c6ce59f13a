"""kslab load vs hey and wrk, same machine, same run: throughput, p50/p99, kslab's CPU and peak RSS.

Targets: the real KServe sklearn runtime (kslab's local provider, 1 server worker, V1 predict) and nginx
on 127.0.0.1 returning a 3-byte 200 (a server that is never the bottleneck). Server pinned to one core,
load generator to another (when there are at least 2). Installs hey, wrk and nginx from Debian if missing.

Goals: kslab >= 1.0x hey on KServe; on nginx >= 1.2x hey and >= 0.45x wrk; p50/p99 within +-10 % of wrk's
on KServe; kslab's RSS growth < 20 MB from --small to --large requests.

Usage: python benchmarks/load_vs_peers.py [--duration 6] [--repeat 3] [--small 10000] [--large 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODEL = "sklearn-iris"
BODY = b'{"instances":[[6.8,2.8,4.8,1.4],[6.0,3.4,4.5,1.6]]}'
NGINX_CONF = """worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
  uwsgi_temp_path {dir}; scgi_temp_path {dir};
  keepalive_requests 100000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }}
}}
"""
WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{body}'
"""


def cores() -> tuple[set[int], set[int]]:
    """(server cores, generator cores): disjoint when the machine has two or more."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return set(available), set(available)
    return {available[0]}, set(available[1:2])


def pin(cpus: set[int]) -> Callable[[], None]:
    return lambda: os.sched_setaffinity(0, cpus)


def pin_process_tree(pid: int, cpus: set[int]) -> None:
    """Pin every thread of ``pid`` (and of its children) to ``cpus``."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)
        children = Path(f"/proc/{pid}/task/{task.name}/children")
        for child in children.read_text().split() if children.exists() else []:
            pin_process_tree(int(child), cpus)


def ensure_tools() -> None:
    missing = [pkg for tool, pkg in (("hey", "hey"), ("wrk", "wrk"), ("nginx", "nginx-light"))
               if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists()]
    if missing:
        print(f"installing {', '.join(missing)} from Debian", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_nginx(workdir: Path, cpus: set[int]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([binary, "-c", str(conf), "-p", str(workdir)], preexec_fn=pin(cpus))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("nginx did not start")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "secs": 1000.0}[unit]


def run_hey(url: str, concurrency: int, duration: int, body: Path, cpus: set[int]) -> dict:
    out = subprocess.run(["hey", "-z", f"{duration}s", "-c", str(concurrency), "-m", "POST", "-T",
                          "application/json", "-D", str(body), url], capture_output=True, text=True,
                         check=True, preexec_fn=pin(cpus)).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = (re.search(rf"{p}% in ([\d.]+) secs", out).group(1) for p in (50, 99))
    return {"rps": rps, "p50": _ms(p50, "s"), "p99": _ms(p99, "s")}


def run_wrk(url: str, concurrency: int, duration: int, script: Path, cpus: set[int]) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{duration}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True, preexec_fn=pin(cpus)).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = (re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M) for p in (50, 99))
    return {"rps": rps, "p50": _ms(*p50.groups()), "p99": _ms(*p99.groups())}


def run_kslab(url: str, flags: list[str], body: Path, cpus: set[int], workdir: Path) -> dict:
    """Run `kslab load` as a child; its JSON result plus CPU seconds (wait4's rusage) and peak RSS.

    Peak RSS is the child's VmHWM, read while it runs: ru_maxrss would also count the pages it shared
    with this (much larger) process between fork and exec.
    """
    out_path = workdir / "kslab-out.json"
    command = [sys.executable, "-c", "from kslab.cli.main import entry; entry()", "load", MODEL, "--url", url,
               "--body", str(body), *flags, "-o", "json"]
    start = time.monotonic()
    with out_path.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=workdir,
                                   preexec_fn=pin(cpus), env=os.environ | {"PYTHONPATH": str(ROOT)})
        peak_kb = 0
        while (waited := os.wait4(process.pid, os.WNOHANG))[0] == 0:
            peak_kb = max(peak_kb, _vm_hwm_kb(process.pid))
            time.sleep(0.1)
        _, status, usage = waited
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"kslab load failed: {' '.join(command)}")
    data = json.loads(out_path.read_text())
    return {"rps": data["throughput_rps"], "p50": data["latency"]["p50_ms"], "p99": data["latency"]["p99_ms"],
            "requests": data["requests"], "errors": data["error_total"], "cpu_s": usage.ru_utime + usage.ru_stime,
            "wall_s": wall, "rss_mb": peak_kb / 1024}


def _vm_hwm_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else 0


def compare(name: str, url: str, args: argparse.Namespace, files: dict[str, Path], cpus: set[int],
            workdir: Path) -> list[dict]:
    """hey, wrk and kslab interleaved ``--repeat`` times per concurrency; the run with the median req/s each."""
    rows = []
    for concurrency in (10, 50):
        runs: dict[str, list[dict]] = {"hey": [], "wrk": [], "kslab": []}
        for _ in range(args.repeat):
            runs["hey"].append(run_hey(url, concurrency, args.duration, files["body"], cpus))
            runs["wrk"].append(run_wrk(url, concurrency, args.duration, files["wrk"], cpus))
            runs["kslab"].append(run_kslab(url, ["-c", str(concurrency), "--duration", f"{args.duration}s"],
                                           files["body"], cpus, workdir))
        rows.append({"target": name, "c": concurrency} | {tool: _median_run(r) for tool, r in runs.items()})
    return rows


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def print_table(rows: list[dict]) -> None:
    print(f"{'target':<8}{'c':>4} | {'hey rps':>9}{'p50':>7}{'p99':>7} | {'wrk rps':>9}{'p50':>7}{'p99':>7} | "
          f"{'kslab rps':>9}{'p50':>7}{'p99':>7} | {'k/hey':>6}{'k/wrk':>6} | {'p50 k/w':>7}{'p99 k/w':>8}")
    for row in rows:
        h, w, k = row["hey"], row["wrk"], row["kslab"]
        print(f"{row['target']:<8}{row['c']:>4} | {h['rps']:>9.0f}{h['p50']:>7.2f}{h['p99']:>7.2f} | "
              f"{w['rps']:>9.0f}{w['p50']:>7.2f}{w['p99']:>7.2f} | {k['rps']:>9.0f}{k['p50']:>7.2f}{k['p99']:>7.2f} | "
              f"{k['rps'] / h['rps']:>6.2f}{k['rps'] / w['rps']:>6.2f} | {k['p50'] / w['p50']:>7.2f}"
              f"{k['p99'] / w['p99']:>8.2f}")
    print("latencies in ms; k = kslab, w = wrk")


def goals(rows: list[dict], memory: list[dict]) -> None:
    def check(label: str, value: float, ok: bool) -> None:
        print(f"  [{'met ' if ok else 'MISS'}] {label}: {value:.2f}")

    print("goals:")
    for row in rows:
        h, w, k = row["hey"], row["wrk"], row["kslab"]
        where = f"{row['target']} c={row['c']}"
        if row["target"] == "kserve":
            check(f"{where} kslab/hey >= 1.0", k["rps"] / h["rps"], k["rps"] >= h["rps"])
            for p in ("p50", "p99"):
                ratio = k[p] / w[p]
                check(f"{where} {p} kslab/wrk within 0.9..1.1", ratio, 0.9 <= ratio <= 1.1)
        else:
            check(f"{where} kslab/hey >= 1.2", k["rps"] / h["rps"], k["rps"] >= 1.2 * h["rps"])
            check(f"{where} kslab/wrk >= 0.45", k["rps"] / w["rps"], k["rps"] >= 0.45 * w["rps"])
    growth = memory[-1]["rss_mb"] - memory[0]["rss_mb"]
    check(f"RSS growth {memory[0]['requests']} -> {memory[-1]['requests']} requests < 20 MB", growth, growth < 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per throughput run (default 6)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs per tool, median kept (default 3)")
    parser.add_argument("--small", type=int, default=10_000, help="requests in the small memory run")
    parser.add_argument("--large", type=int, default=1_000_000, help="requests in the large memory run")
    args = parser.parse_args()
    ensure_tools()
    server_cpus, client_cpus = cores()
    print(f"server cores {sorted(server_cpus)}, generator cores {sorted(client_cpus)}; {args.duration}s per run; "
          f"{args.repeat} interleaved runs per tool (median); "
          f"memory runs {args.small} and {args.large} requests at c=50 against nginx")
    with tempfile.TemporaryDirectory(prefix="kslab-bench-") as tmp:
        workdir = Path(tmp)
        files = {"body": workdir / "body.json", "wrk": workdir / "post.lua"}
        files["body"].write_bytes(BODY)
        files["wrk"].write_text(WRK_SCRIPT.format(body=BODY.decode()))
        os.environ["KSLAB_STATE_DIR"] = str(workdir / "state")
        from kslab.config.model import Settings
        from kslab.lab.local import deploy_local, undeploy_local

        settings = Settings(provider="local")
        status = deploy_local(settings, MODEL, "v1")
        nginx, nginx_url = start_nginx(workdir, server_cpus)
        try:
            pin_process_tree(status.pid, server_cpus)
            kserve_url = f"{status.url}/v1/models/{MODEL}:predict"
            rows = compare("kserve", kserve_url, args, files, client_cpus, workdir)
            rows += compare("nginx", nginx_url, args, files, client_cpus, workdir)
            memory = [run_kslab(nginx_url, ["-c", "50", "-n", str(n)], files["body"], client_cpus, workdir)
                      | {"requests": n} for n in (args.small, args.large)]
        finally:
            nginx.terminate()
            nginx.wait(10)
            undeploy_local(settings, MODEL)
    print_table(rows)
    print("kslab resource use (nginx, c=50):")
    for run in memory:
        print(f"  {run['requests']:>9} requests: {run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU "
              f"({100 * run['cpu_s'] / run['wall_s']:.0f} %), peak RSS {run['rss_mb']:.1f} MB, {run['rps']:.0f} req/s")
    goals(rows, memory)


if __name__ == "__main__":
    main()
