"""A server outage: the server stops, a till scans and a room's buttons are pressed 500 times, the
server starts again — every command arrives exactly once, in the order it happened."""

from __future__ import annotations

from typing import Any

import pytest

from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import Appliances, Spa
from tests.support import wait_until

pytestmark = pytest.mark.slow

SCANS = 200
CUSTOMERS = 100  # next, start, finish for each: 300 presses


def test_everything_done_offline_arrives_once_and_in_order(
    spa: Spa, scanner: VirtualSerialScanner, appliances: Appliances
) -> None:
    orders = spa.waiting_customers(CUSTOMERS)
    till = appliances.till(scanner=scanner, drawer=False)
    room, buttons = appliances.room(number="3", presses_ahead=3 * CUSTOMERS)

    spa.stop()
    for process in (till, room):
        process.wait_log(lambda line: line["msg"].startswith("disconnected"), 10, "disconnected")
    codes = [orders[i % CUSTOMERS]["code"] for i in range(SCANS)]
    for _ in range(CUSTOMERS):
        for action in ("next", "start", "finish"):
            buttons.press(action)
    for code in codes:
        scanner.scan(code)
    wait_until(
        lambda: till.outbox_size() == SCANS and room.outbox_size() == 3 * CUSTOMERS,
        30,
        what="every scan and press in the outboxes",
    )
    assert till.terminate() == 0  # a clean stop while offline keeps what it could not send
    assert till.outbox_size() == SCANS
    till.start()

    spa.start()
    wait_until(lambda: till.outbox_size() == 0 and room.outbox_size() == 0, 60, what="the outboxes sent")

    # The till's look-ups: one stored idempotency key each, in the order scanned.
    keys = spa.query(
        "SELECT key, event FROM idempotency_keys WHERE principal = ? ORDER BY created_at",
        (f"device:{spa.device_id('cashier-1')}",),
    )
    assert len(keys) == SCANS and {event for _, event in keys} == {"cashier_lookup"}
    seqs = [int(key.rsplit("-", 1)[1]) for key, _ in keys]
    assert seqs == sorted(seqs) and len(set(seqs)) == SCANS
    looked_up = [line["payload"]["code"] for line in till.acked("cashier_lookup")]
    assert looked_up == codes

    # The room's presses: claimed, started, finished for each customer in turn, oldest first.
    rows = spa.query(
        "SELECT transaction_id, action FROM audit_log WHERE actor = ? ORDER BY id",
        (f"device:{spa.device_id('room-1')}",),
    )
    expected: list[tuple[Any, ...]] = []
    for order in orders:
        expected += [(order["transaction_id"], a) for a in ("claimed", "started", "finished")]
    assert rows == expected
    # Finished customers the till looked up meanwhile are being paid there; none went anywhere else.
    assert set(spa.query("SELECT status, room FROM transactions")) <= {("awaiting_payment", "3"), ("paying", "3")}
    assert not till.find(lambda line: line["msg"].startswith("refused"))
    assert not room.find(lambda line: line["msg"].startswith(("refused", "dropped")))
    assert till.terminate() == 0 and room.terminate() == 0
