"""Connections held, dropped all at once, and reconnected: this server against bare Flask-SocketIO
in threading mode (how it held them before issue 10), measured the same way in the same run.

    python -m bench.connections [--connections 1000] [--no-baseline]

For each server: a thousand screens connect at once from 250 loopback addresses (one token each,
`bench.screens` in a process of its own); then, while they are held, the server's resident memory
per connection and the latency of /healthz; then the screens' process is killed (every socket
reset at once, as a power cut takes every screen down together) and /healthz is probed every
100 ms: the longest wait for an answer, and how long until the server has counted every
disconnect; then a thousand screens connect again at once, and the time until all are in.

This server runs as `python -m server run` with its default settings on MariaDB; the screens are
lobby devices. Needs MariaDB on 127.0.0.1:3306 (root, no password); makes and drops its own
database.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.procs import status_sum
from server.db.engine import Database
from server.db.migrate import upgrade
from server.service import admin
from tests.support import LiveServer, free_port, mysql_database

PROBE_EVERY_S = 0.1
PROBE_TIMEOUT_S = 60.0  # a probe that waits this long is reported as "at least"
SETTLE_LIMIT_S = 90.0
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figures:
    name: str
    connect_s: float
    rss_per_connection_kib: float
    threads_held: int
    healthz_p50_ms: float
    healthz_p99_ms: float
    drop_longest_wait_s: float
    drop_counted_s: float
    reconnect_s: float


def rss_kib(pid: int) -> int:
    return status_sum(pid, "VmRSS")


def threads_of(pid: int) -> int:
    return status_sum(pid, "Threads")


def connections(url: str, timeout_s: float = 5.0) -> int | None:
    try:
        return int(requests.get(f"{url}/healthz", timeout=timeout_s).json()["connections"])
    except (requests.RequestException, ValueError, KeyError):
        return None


def wait_for_count(url: str, want: int, limit_s: float) -> float:
    """Seconds until /healthz counts `want` connections (`limit_s` if never)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if connections(url) == want:
            return time.monotonic() - started
        time.sleep(0.1)
    return limit_s


def screens(url: str, tokens_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.screens", "--url", url, "--tokens-file", str(tokens_file)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def healthz_latencies(url: str, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        t0 = time.perf_counter()
        requests.get(f"{url}/healthz", timeout=PROBE_TIMEOUT_S)
        latencies.append(time.perf_counter() - t0)
    return latencies


def longest_wait_after(url: str, want: int, limit_s: float) -> tuple[float, float]:
    """Probes /healthz every 100 ms until it counts `want` connections: the longest a probe waited
    for an answer (a failure counts as its full wait), and when the count was reached."""
    started = time.monotonic()
    longest = 0.0
    counted = limit_s
    while time.monotonic() - started < limit_s:
        t0 = time.monotonic()
        try:
            n = int(requests.get(f"{url}/healthz", timeout=PROBE_TIMEOUT_S).json()["connections"])
        except (requests.RequestException, ValueError, KeyError):
            n = None
        longest = max(longest, time.monotonic() - t0)
        if n == want:
            counted = time.monotonic() - started
            break
        time.sleep(PROBE_EVERY_S)
    return longest, counted


def measure(name: str, url: str, pid: int, tokens_file: Path, n: int) -> Figures:
    rss_before = rss_kib(pid)
    started = time.monotonic()
    held = screens(url, tokens_file)
    try:
        connect_s = wait_for_count(url, n, SETTLE_LIMIT_S)
        time.sleep(1.0)  # let allocations settle
        rss_per = (rss_kib(pid) - rss_before) / n
        threads = threads_of(pid)
        lat = healthz_latencies(url, 200)
    finally:
        held.kill()  # every socket reset at once
        held.wait(10)
    print(f"  {name}: {n} connected in {time.monotonic() - started:.1f} s; dropped", file=sys.stderr, flush=True)
    longest, counted = longest_wait_after(url, 0, SETTLE_LIMIT_S)
    again = screens(url, tokens_file)
    try:
        reconnect_s = wait_for_count(url, n, SETTLE_LIMIT_S)
    finally:
        again.kill()
        again.wait(10)
    wait_for_count(url, 0, SETTLE_LIMIT_S)
    return Figures(
        name,
        connect_s,
        rss_per,
        threads,
        statistics.median(lat) * 1000,
        sorted(lat)[int(0.99 * (len(lat) - 1))] * 1000,
        longest,
        counted,
        reconnect_s,
    )


def ours(n: int, tmp: Path) -> Figures:
    with mysql_database() as url:
        upgrade(url)
        db = Database(url, pool_size=2, max_overflow=0)
        try:
            tokens = [admin.add_device(db, "lobby", f"screen-{i}")["token"] for i in range(n)]
        finally:
            db.dispose()
        tokens_file = tmp / "ours.tokens"
        tokens_file.write_text("\n".join(tokens))
        server = LiveServer(url, tmp, SPA_LOG_LEVEL="WARNING").start()
        try:
            assert server.proc is not None
            return measure("this server", server.url, server.proc.pid, tokens_file, n)
        finally:
            server.stop()


def baseline(n: int, tmp: Path) -> Figures:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_threading", "--port", str(port), "--threads", str(n + 100)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while connections(url, 1) is None:
            if time.monotonic() > deadline:
                raise RuntimeError("the baseline server did not start")
            time.sleep(0.2)
        tokens_file = tmp / "bare.tokens"
        tokens_file.write_text("\n".join(f"token-{i}" for i in range(n)))
        return measure("bare Flask-SocketIO (threading)", url, proc.pid, tokens_file, n)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def report(rows: list[Figures]) -> None:
    def at_least(value: float, limit: float) -> str:
        return f"≥{limit:.0f}" if value >= limit else f"{value:.2f}"

    print()
    print(
        "| server | connect N (s) | RSS per connection (KiB) | threads held | /healthz p50 / p99 held (ms) |"
        " longest /healthz wait after the drop (s) | drop counted (s) | all reconnected (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for f in rows:
        print(
            f"| {f.name} | {at_least(f.connect_s, SETTLE_LIMIT_S)} | {f.rss_per_connection_kib:.0f} | {f.threads_held} "
            f"| {f.healthz_p50_ms:.1f} / {f.healthz_p99_ms:.1f} | {at_least(f.drop_longest_wait_s, PROBE_TIMEOUT_S)} "
            f"| {at_least(f.drop_counted_s, SETTLE_LIMIT_S)} | {at_least(f.reconnect_s, SETTLE_LIMIT_S)} |"
        )
    if len(rows) == 2:
        a, b = rows
        print()
        print(
            f"ratios (this / baseline): RSS per connection {a.rss_per_connection_kib / b.rss_per_connection_kib:.2f}, "
            f"threads {a.threads_held / b.threads_held:.3f}, "
            f"longest wait after the drop {a.drop_longest_wait_s / max(b.drop_longest_wait_s, 1e-3):.3f}, "
            f"reconnect {a.reconnect_s / max(b.reconnect_s, 1e-3):.2f}"
        )
    ok = rows[0].drop_longest_wait_s < 5 and rows[0].reconnect_s < 30
    print(f"issue 10's bound (/healthz within 5 s of the drop, all back within 30 s): {'met' if ok else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--no-baseline", action="store_true", help="skip bare Flask-SocketIO (threading)")
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.connections} connections from 250 loopback addresses"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(ours(args.connections, Path(tmp)))
        if not args.no_baseline:
            rows.append(baseline(args.connections, Path(tmp)))
    report(rows)
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench.connections"
    sys.exit(main())
