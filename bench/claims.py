"""Claims per second and acknowledgement latency of `therapist_confirm_next` through the server,
beside a raw PyMySQL loop doing the same SELECT … FOR UPDATE SKIP LOCKED + UPDATE + COMMIT, and
beside the transport alone: the same clients calling a bare uvicorn + python-socketio server that
answers at once from a worker thread, no database (bench/bare_asgi.py).

    python -m bench.claims [--claims 2000] [--concurrency 1 8 32]

Needs MariaDB on 127.0.0.1:3306 (root, no password); makes and drops its own database.
The server runs as `python -m server run` (uvicorn, commands on threads) in a subprocess; the therapists
are python-socketio clients over WebSocket, spread over several processes so that the clients'
own Python does not become the bottleneck.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pymysql

from bench.procs import cpu_s
from server.db.engine import Database
from server.db.migrate import upgrade
from server.service import admin
from tests.support import MYSQL_HOST, MYSQL_PORT, REDIS_URL, LiveServer, fill_waiting, free_port, mysql_database

CLAIM_SQL = (
    "SELECT id FROM transactions WHERE status = 'pending_therapist' "
    "ORDER BY queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
UPDATE_SQL = (
    "UPDATE transactions SET status = 'therapist_confirmed', therapist_confirmed_at = NOW(6), "
    "row_version = row_version + 1 WHERE id = %s"
)


def fill(db: Database, n: int, *, claimed: int = 0, extra_waiting: int = 0, therapist_id: int | None = None) -> None:
    """n waiting customers to claim; anything left from the previous run is cleared first.
    `claimed` customers already with a therapist (claimed, never finished: a busy day's load on
    the estimates) and `extra_waiting` more waiting behind the n, so that the queue never runs
    short (the server's run stops at n claims; issue 14's 5,000 waiting and 2,000 claimed)."""
    from sqlalchemy import func, update

    from server.db.models import Transaction
    from server.db.queue_repo import bump_version

    if claimed:
        fill_waiting(db, claimed, clear=True)
        with db.write() as s:
            # Codes of their own (the waiting ones below reuse Q-00000…).
            s.execute(
                update(Transaction).values(
                    status="therapist_confirmed",
                    therapist_id=therapist_id,
                    code=func.replace(Transaction.code, "Q-", "C-"),
                )
            )
    fill_waiting(db, n + extra_waiting, clear=not claimed)
    with db.write() as s:
        # A version nobody was told of: the server's broadcaster sees the gap at the next change
        # and re-reads the queue, so its estimates work over all of these rows.
        bump_version(s)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def raw_loop(database: str, concurrency: int, quota: int) -> tuple[float, list[float]]:
    """The floor: the same claim with nothing around it, `quota` claims in all."""
    latencies: list[float] = []
    lock = threading.Lock()
    left = [quota]
    barrier = threading.Barrier(concurrency + 1)

    def worker() -> None:
        conn = pymysql.connect(
            host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", database=database, autocommit=False
        )
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        mine: list[float] = []
        barrier.wait()
        while True:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute(CLAIM_SQL)
                row = cur.fetchone()
                if row is None:
                    conn.commit()
                    break
                cur.execute(UPDATE_SQL, (row[0],))
            conn.commit()
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, name=f"bench.raw.{i}") for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies


def _client_process(url: str, token: str, threads: int, start_at: float, quota: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    import socketio

    # Forked from this process with the raw loop's results in it: frozen, so that the clients'
    # own full collections (~100 ms over the inherited heap) are not counted as the server's.
    gc.freeze()
    clients = []
    for _ in range(threads):
        c = socketio.Client(reconnection=False)
        c.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        clients.append(c)
    latencies: list[float] = []
    lock = threading.Lock()
    left = [quota]

    def therapist(c: socketio.Client) -> None:
        mine = []
        while time.time() < start_at:
            time.sleep(0.001)
        while True:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            t0 = time.perf_counter()
            ack = c.call("therapist_confirm_next", {}, timeout=30)
            if not ack["ok"]:
                assert ack["error"]["code"] == "queue_empty", ack
                break
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=therapist, args=(c,), name=f"bench.client.{i}") for i, c in enumerate(clients)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((time.time(), latencies))
    for c in clients:
        c.disconnect()


def server_loop(urls: list[str], token: str, concurrency: int, claims: int) -> tuple[float, list[float]]:
    processes = min(concurrency, 4)
    per = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    quotas = [claims * n // concurrency for n in per]
    quotas[0] += claims - sum(quotas)
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 2.0 + 0.05 * concurrency  # everyone connected before the start
    procs = [
        mp.Process(target=_client_process, args=(urls[i % len(urls)], token, n, start_at, quotas[i], out))
        for i, n in enumerate(per)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(30)
    end = max(r[0] for r in results)
    return end - start_at, [lat for r in results for lat in r[1]]


def bare_transport(threads: int) -> tuple[subprocess.Popen[bytes], str]:
    """bench.bare_asgi in its own process, once it listens."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_asgi", "--port", str(port), "--threads", str(threads)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("bench.bare_asgi did not start") from None
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=2000, help="waiting customers claimed per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--waiting", type=int, default=0, help="more customers waiting behind those claimed")
    parser.add_argument("--claimed", type=int, default=0, help="customers already claimed and never finished")
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes sharing the queue through Redis (scale-out)"
    )
    parser.add_argument(
        "--transport-threads",
        type=int,
        default=40,
        help="the bare transport's worker threads (0: it answers on its event loop)",
    )
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"MariaDB at {MYSQL_HOST}:{MYSQL_PORT}; {args.claims} claims per row; {args.processes} server process(es); "
        f"{args.waiting} more waiting, {args.claimed} claimed"
    )
    rows = []
    with mysql_database() as url, tempfile.TemporaryDirectory() as tmp:
        upgrade(url)
        db = Database(url, pool_size=2, max_overflow=0)
        people = {r["name"]: r for r in admin.load_demo(db)}
        database = url.rsplit("/", 1)[1].split("?")[0]
        # Up to 32 therapists on one token, from one address: past the default per-token cap.
        env = {
            "SPA_MAX_CONNECTIONS_PER_PRINCIPAL": "64",
            "SPA_LOG_LEVEL": "WARNING",
            "SPA_DB_POOL_SIZE": "40",
            "SPA_COMMAND_THREADS": "40",
        }
        if args.processes > 1:
            env |= {"SPA_MESSAGE_QUEUE": REDIS_URL, "SPA_MESSAGE_QUEUE_CHANNEL": f"bench-{os.getpid()}"}
        servers = [LiveServer(url, Path(tmp), **env).start() for _ in range(args.processes)]
        bare, bare_url = bare_transport(args.transport_threads)
        try:
            # A few more waiting than are claimed, always: at the very end, a claimer that finds the
            # last rows locked by the others' claims in flight would get "queue empty" and stop short.
            extra = max(args.waiting, 4 * max(args.concurrency))
            load = {"claimed": args.claimed, "extra_waiting": extra, "therapist_id": people["Anna"]["id"]}
            for n in args.concurrency:
                fill(db, args.claims, **load)
                raw_s, raw_lat = raw_loop(database, n, args.claims)
                fill(db, args.claims, **load)
                pids = [s.proc.pid for s in servers if s.proc is not None]
                cpu_before = sum(cpu_s(p) for p in pids)
                srv_s, srv_lat = server_loop([s.url for s in servers], people["Anna"]["token"], n, args.claims)
                cpu_ms = (sum(cpu_s(p) for p in pids) - cpu_before) / args.claims * 1000
                bare_s, bare_lat = server_loop([bare_url], "any", n, args.claims)
                assert len(raw_lat) == len(srv_lat) == len(bare_lat) == args.claims, (len(raw_lat), len(srv_lat))
                rows.append(
                    (n, args.claims / raw_s, raw_lat, args.claims / srv_s, srv_lat, cpu_ms, args.claims / bare_s)
                )
                print(f"  measured {n} concurrent", file=sys.stderr, flush=True)
        finally:
            for server in servers:
                server.stop()
            bare.terminate()
            bare.wait(10)
            db.dispose()

    print()
    print(
        "| therapists | raw claims/s | raw p50 ms | raw p99 ms | server claims/s | ack p50 ms | ack p99 ms "
        "| server CPU ms/claim | server/raw | transport calls/s | server/transport |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, raw_rate, raw_lat, srv_rate, srv_lat, cpu_ms, bare_rate in rows:
        print(
            f"| {n} | {raw_rate:,.0f} | {statistics.median(raw_lat) * 1000:.2f} | {percentile(raw_lat, 99) * 1000:.2f} "
            f"| {srv_rate:,.0f} | {statistics.median(srv_lat) * 1000:.2f} | {percentile(srv_lat, 99) * 1000:.2f} "
            f"| {cpu_ms:.2f} | {srv_rate / raw_rate:.2f} | {bare_rate:,.0f} | {srv_rate / bare_rate:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
