"""A kiosk's confirm fanned out to subscribed therapist screens: this server against a bare
python-socketio server (Flask-SocketIO, threading mode, its own process: bench/bare_threading.py)
re-broadcasting the same payload, and the original design's way (an empty broadcast, then every
screen asks for the queue again), in one run.

    python -m bench.fanout [--screens 200 500] [--confirms 20]

For each number of screens: the confirm → the last screen's copy (p50, p90), and the confirm's own
acknowledgement (p50) against the same with no screen connected. The screens are python-socketio
asyncio clients in a process of their own; the same clients measure every server. Needs MariaDB
on 127.0.0.1:3306 (makes and drops its own database).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from server.db.migrate import upgrade
from tests.support import Client, LiveServer, free_port, load_demo, mysql_database

SERVER_ENV = {
    "SPA_MAX_CONNECTIONS": "1200",
    "SPA_MAX_TCP_CONNECTIONS": "2400",
    "SPA_MAX_PENDING_CONNECTIONS": "1000",
    "SPA_MAX_CONNECTIONS_PER_ADDRESS": "1200",
    "SPA_MAX_PENDING_PER_ADDRESS": "1000",
    "SPA_MAX_CONNECTIONS_PER_PRINCIPAL": "1200",
    "SPA_MAX_WAIT_MIN": "0",
    "SPA_LOG_LEVEL": "WARNING",
}
BATCH = 50  # screens connecting at once


def ident(data: Any) -> int | None:
    if isinstance(data, dict) and isinstance(data.get("transaction"), dict):
        value = data["transaction"].get("id")
        return int(value) if isinstance(value, int) else None
    return None


def _screens(url: str, token: str, n: int, ready: Any, stop: Any, out: Any) -> None:
    import socketio

    async def main() -> None:
        received: list[tuple[int, float, int | None]] = []
        clients: list[socketio.AsyncClient] = []

        async def one(me: int) -> None:
            c = socketio.AsyncClient(reconnection=False)

            async def on_update(data: Any) -> None:
                received.append((me, time.time(), ident(data)))

            async def on_changed(data: Any = None) -> None:
                snap = await c.call("queue_snapshot", timeout=60)
                received.append((me, time.time(), ident(snap)))

            c.on("therapist_queue_updated", on_update)
            c.on("queue_changed", on_changed)
            await c.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=30)
            await c.call("therapist_subscribe", timeout=30)
            clients.append(c)

        for start in range(0, n, BATCH):
            await asyncio.gather(*(one(start + i) for i in range(min(BATCH, n - start))))
        ready.put(len(clients))
        while not stop.is_set():
            await asyncio.sleep(0.05)
        out.put(received)
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)

    asyncio.run(main())


class Screens:
    """n therapist screens subscribed on `url`, in a process of their own."""

    def __init__(self, url: str, token: str, n: int) -> None:
        self.ready: Any = mp.Queue()
        self.out: Any = mp.Queue()
        self.stop = mp.Event()
        self.proc = mp.Process(target=_screens, args=(url, token, n, self.ready, self.stop, self.out), daemon=True)
        self.n = n

    def __enter__(self) -> Screens:
        if self.n:
            self.proc.start()
            got = self.ready.get(timeout=300)
            assert got == self.n, got
        return self

    def received(self) -> list[tuple[int, float, int | None]]:
        if not self.n:
            return []
        self.stop.set()
        got: list[tuple[int, float, int | None]] = self.out.get(timeout=120)
        self.proc.join(30)
        return got

    def __exit__(self, *exc: object) -> None:
        if self.proc.is_alive():
            self.stop.set()
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.kill()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def measure(send: Any, screens: Screens, confirms: int) -> tuple[list[float], list[float]]:
    """(ack latencies, confirm → last screen latencies), in seconds."""
    sent: dict[int, float] = {}
    acks: list[float] = []
    for i in range(confirms):
        t0 = time.time()
        ident_ = send(i)
        acks.append(time.time() - t0)
        sent[ident_] = t0
        time.sleep(0.6 if screens.n >= 500 else 0.4)
    time.sleep(2.0)
    # A screen has confirm i once it holds i or a later one: a screen that refetches (the
    # original design's way) after two confirms gets both in one answer.
    first: dict[tuple[int, int], float] = {}  # (screen, confirm) → when it had it
    for screen, at, got in sorted(screens.received(), key=lambda r: r[1]):
        if got is None:
            continue
        for i in sent:
            if i <= got and (screen, i) not in first:
                first[(screen, i)] = at
    fanout = []
    for i, t0 in sent.items():
        times = [first[(screen, i)] for screen in range(screens.n) if (screen, i) in first]
        if screens.n and len(times) == screens.n:
            fanout.append(max(times) - t0)
    if screens.n:
        assert len(fanout) >= confirms * 0.9, f"only {len(fanout)} of {confirms} reached all {screens.n}"
    return acks, fanout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--confirms", type=int, default=20)
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.confirms} confirms per row"
    )
    rows = []
    with mysql_database() as url, tempfile.TemporaryDirectory() as tmp:
        upgrade(url)
        people = load_demo(url)
        server = LiveServer(url, Path(tmp), **SERVER_ENV).start()
        bare_port = free_port()
        bare = subprocess.Popen(
            [sys.executable, "-m", "bench.bare_threading", "--port", str(bare_port), "--threads", "1400"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare_url = f"http://127.0.0.1:{bare_port}"
        kiosk = Client(server.url, people["kiosk-1"]["token"]).connect()
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"{bare_url}/healthz", timeout=1)
                    break
                except requests.RequestException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            order = {"customer_name": "Fan", "items": [{"service_id": 1}]}

            def ours(_: int) -> int:
                ack = kiosk.call("customer_confirm_selection", order, timeout_s=60)
                assert ack["ok"], ack
                return int(ack["transaction_id"])

            # The payload the bare server re-broadcasts: what this server sends for a confirm.
            probe = Client(server.url, people["Anna"]["token"]).connect()
            probe.call("therapist_subscribe")
            made = ours(0)
            payload = probe.wait_for("therapist_queue_updated", lambda d: ident(d) == made)
            probe.close()
            bare_kiosk = Client(bare_url, "x").connect()

            def bare_send(refetch: bool) -> Any:
                def send(i: int) -> int:
                    body = {**payload, "transaction": {**payload["transaction"], "id": 10_000_000 + i}}
                    assert bare_kiosk.call("confirm", {"payload": body, "refetch": refetch})["ok"]
                    return 10_000_000 + i

                return send

            with Screens(server.url, people["Anna"]["token"], 0) as none:
                idle_acks, _ = measure(ours, none, args.confirms)
            for n in args.screens:
                with Screens(server.url, people["Anna"]["token"], n) as screens:
                    acks, fan = measure(ours, screens, args.confirms)
                with Screens(bare_url, "x", n) as screens:
                    _, bare_fan = measure(bare_send(False), screens, args.confirms)
                with Screens(bare_url, "x", n) as screens:
                    _, refetch_fan = measure(bare_send(True), screens, args.confirms)
                rows.append((n, fan, bare_fan, refetch_fan, acks))
                print(f"  measured {n} screens", file=sys.stderr, flush=True)
            bare_kiosk.close()
        finally:
            kiosk.close()
            bare.terminate()
            try:
                bare.wait(10)
            except subprocess.TimeoutExpired:
                bare.kill()
                bare.wait(5)
            server.stop()

    ms = 1000
    print()
    print(f"confirm ack with no screen: p50 {statistics.median(idle_acks) * ms:.1f} ms")
    print()
    print(
        "| screens | server p50 ms | server p90 ms | bare p50 ms | server/bare | refetch (original) p50 ms "
        "| ack p50 ms | ack vs no screens |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, fan, bare_fan, refetch_fan, acks in rows:
        print(
            f"| {n} | {pct(fan, 50) * ms:.0f} | {pct(fan, 90) * ms:.0f} | {pct(bare_fan, 50) * ms:.0f} "
            f"| {pct(fan, 50) / pct(bare_fan, 50):.2f} | {pct(refetch_fan, 50) * ms:.0f} "
            f"| {statistics.median(acks) * ms:.1f} | {statistics.median(acks) / statistics.median(idle_acks):.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
