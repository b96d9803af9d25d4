"""The transport's own ceiling for `bench.claims`: the same stack as `python -m server run`
(uvicorn, python-socketio's AsyncServer, the call handed to a worker thread and answered from it)
with nothing of the spa in it: `therapist_confirm_next` is acknowledged at once with a
transaction-sized answer, no database, no broadcast.

    python -m bench.bare_asgi --port 5002

What the server's claims per second are set against, besides the raw SQL loop: how many calls
the same clients get through Socket.IO alone on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import socketio
import uvicorn

# The shape and size of a claimed transaction's staff view (server/service/views.py).
TRANSACTION: dict[str, Any] = {
    "id": 1234, "code": "A-042", "status": "therapist_confirmed", "room": "3", "public_id": "abcdefghijklmnop",
    "customer_name": "Guest 42", "business_day": "2026-12-07", "therapist": {"id": 2, "name": "Anna"},
    "cashier": None, "total": "45.00", "total_minutes": 60, "row_version": 2, "priority": False,
    "items": [{
        "id": 5678, "service_id": 1, "name": "Classic massage", "quantity": 1, "unit_price": "45.00",
        "duration_min": 60, "line_total": "45.00", "tax_rate_bp": 1900, "discount": "0.00",
    }],
    "timestamps": {
        "created_at": "2026-12-07T10:11:12.123456+00:00", "therapist_confirmed_at": "2026-12-07T10:21:12.123456+00:00",
        "service_started_at": None, "service_finished_at": None, "paid_at": None, "cancelled_at": None,
    },
    "allowed": ["start_service", "release", "no_show", "cancel"], "queue_place": "20261207101112123456-0000001234",
    "priority_reason": None, "cancel_reason": None, "order_discount": "0.00", "order_discount_reason": None,
}  # fmt: skip


def make_app(threads: int) -> socketio.ASGIApp:
    sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])
    pool = ThreadPoolExecutor(max(threads, 1), thread_name_prefix="bare.command")

    def command() -> dict[str, Any]:
        return {"ok": True, "transaction": TRANSACTION}

    @sio.on("connect")
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return True

    @sio.on("therapist_confirm_next")
    async def claim(sid: str, data: Any = None) -> dict[str, Any]:
        if threads == 0:
            return command()  # on the event loop: what the hand-off to a thread costs, by difference
        return await asyncio.get_running_loop().run_in_executor(pool, command)

    return socketio.ASGIApp(sio)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--threads", type=int, default=40, help="worker threads, as SPA_COMMAND_THREADS; 0: answer on the event loop"
    )
    args = parser.parse_args(argv)
    uvicorn.run(make_app(args.threads), host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
