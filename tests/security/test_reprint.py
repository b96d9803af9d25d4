"""Concurrent reprints of one receipt all succeed, with one print job between them: a reprint
while the receipt's copy has not printed yet gets that copy's job_id."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from server.db.engine import Database
from server.db.models import PrintJob
from tests.support import Client, LiveServer, serve_next

REPRINTERS = 10
# Per-principal connection caps may allow only a few connections per token: spread the ten.
WHO = ("cashier-1", "Carla", "Dana")


def jobs_of(url: str, transaction_id: int) -> list[tuple[str, str]]:
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        with db.read() as s:
            rows = s.execute(
                select(PrintJob.job_id, PrintJob.state)
                .where(PrintJob.transaction_id == transaction_id)
                .order_by(PrintJob.job_id)
            )
            return [(job_id, state) for job_id, state in rows]
    finally:
        db.dispose()


def paid_receipt(connect: Callable[..., Client]) -> tuple[Client, int, str]:
    kiosk, anna, till = connect("kiosk-1"), connect("Anna"), connect("cashier-1")
    ordered = kiosk.call("customer_confirm_selection", {"customer_name": "Maria Lopez", "items": [{"service_id": 1}]})
    assert ordered["ok"], ordered
    tid = serve_next(anna)
    assert till.call("cashier_claim_next")["ok"]
    paid = till.call("cashier_pay", {"transaction_id": tid, "amount_paid": "50.00"})
    assert paid["ok"], paid
    return till, tid, paid["print_job"]["job_id"]


# Ten connections of two principals: past the default per-token cap, raised here.
@pytest.mark.server_env(SPA_MAX_CONNECTIONS_PER_PRINCIPAL="12")
def test_ten_concurrent_reprints_all_succeed_with_one_print_job(
    live: LiveServer, connect: Callable[..., Client]
) -> None:
    till, tid, original = paid_receipt(connect)
    clients = [connect(WHO[i % len(WHO)]) for i in range(REPRINTERS)]
    start = threading.Barrier(REPRINTERS)
    acks: list[Any] = [None] * REPRINTERS

    def reprint(i: int) -> None:
        start.wait(10)
        acks[i] = clients[i].call("receipt_reprint", {"transaction_id": tid})

    threads = [threading.Thread(target=reprint, args=(i,), name=f"test.reprint.{i}") for i in range(REPRINTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(a is not None and a["ok"] for a in acks), acks
    job_ids = {a["job_id"] for a in acks}
    assert len(job_ids) == 1, acks
    (copy,) = job_ids
    assert jobs_of(live.database_url, tid) == sorted([(original, "pending"), (copy, "pending")])

    # Once the copy has printed, the next reprint is a new copy.
    job = till.wait_for("print_receipt", lambda d: d["job_id"] == copy)
    assert job["receipt"]["copy"] is True and job["open_drawer"] is False
    assert till.call("receipt_status", {"transaction_id": tid, "job_id": copy, "ok": True})["ok"]
    second = till.call("receipt_reprint", {"transaction_id": tid})
    assert second["ok"] and second["job_id"] not in (original, copy)
    assert len(jobs_of(live.database_url, tid)) == 3
