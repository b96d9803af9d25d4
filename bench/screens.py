"""Many screens in one process: python-socketio's asyncio client, one connection per token, spread
over loopback addresses as a spa's screens each have their own.

    python -m bench.screens --url http://127.0.0.1:5000 --tokens-file tokens.txt [--addresses 250]

Connects every token at once (a thousand screens coming back after a power cut), prints
`connected N in T s` and then holds the connections until it is killed. A connection refused
(the server busy, or at a limit) is tried again with python-socketio's backoff; one that drops
reconnects by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp
import socketio

CONNECT_DEADLINE_S = 120


async def screen(url: str, token: str, source: str, connected: asyncio.Queue[float]) -> socketio.AsyncClient:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0), limit=0))
    client = socketio.AsyncClient(
        reconnection=True, reconnection_delay=0.5, reconnection_delay_max=4, http_session=session
    )
    client.on("connect", lambda: connected.put_nowait(time.monotonic()))
    deadline = time.monotonic() + CONNECT_DEADLINE_S
    delay = 0.5
    while True:
        try:
            await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=20)
            return client
        except socketio.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(delay)  # refused (busy, a limit): back off as a screen's client does
            delay = min(4.0, delay * 2)


async def main(url: str, tokens: list[str], addresses: int) -> None:
    connected: asyncio.Queue[float] = asyncio.Queue()
    started = time.monotonic()
    sources = [f"127.0.{10 + i // 250}.{i % 250 + 1}" for i in range(addresses)]
    clients = await asyncio.gather(*(screen(url, t, sources[i % addresses], connected) for i, t in enumerate(tokens)))
    print(f"connected {len(clients)} in {time.monotonic() - started:.2f} s", flush=True)
    await asyncio.Event().wait()  # held until killed


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.screens")
    parser.add_argument("--url", required=True)
    parser.add_argument("--tokens-file", type=Path, required=True)
    parser.add_argument("--addresses", type=int, default=250)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse(sys.argv[1:])
    asyncio.run(main(args.url, args.tokens_file.read_text().split(), args.addresses))
