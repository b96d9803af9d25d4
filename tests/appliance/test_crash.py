"""kill -9 of the appliance: once with a full outbox and the server away, once in the middle of
sending it. Restarted, it loses nothing and doubles nothing: a doubled "next" would claim a second
customer, a lost one would leave the room's start and finish without a claim. Then the worst case
of lost acknowledgements: the outbox as it was before any was sent, sent again in full."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.appliance.harness import Appliances, Spa
from tests.support import wait_until

pytestmark = pytest.mark.slow

CUSTOMERS = 40  # 120 presses


def test_kill_9_loses_nothing_and_doubles_nothing(spa: Spa, appliances: Appliances, tmp_path: Path) -> None:
    orders = spa.waiting_customers(CUSTOMERS)
    spa.close_clients()
    spa.stop()
    room, buttons = appliances.room(number="7", presses_ahead=3 * CUSTOMERS, connected=False)  # the server is away
    for _ in range(CUSTOMERS):
        for action in ("next", "start", "finish"):
            buttons.press(action)
    wait_until(lambda: room.outbox_size() == 3 * CUSTOMERS, 20, what="every press in the outbox")

    room.kill()  # a full outbox, nothing sent yet
    assert room.outbox_size() == 3 * CUSTOMERS
    shutil.copytree(tmp_path / "room", tmp_path / "room-full")
    spa.start()
    room.start()
    actor = f"device:{spa.device_id('room-1')}"

    def done() -> int:
        return int(spa.query("SELECT count(*) FROM audit_log WHERE actor = ?", (actor,))[0][0])

    wait_until(lambda: done() >= CUSTOMERS, 30, what="a third of the presses sent")
    room.kill()  # in the middle of sending
    left = room.outbox_size()
    assert 0 < left < 3 * CUSTOMERS  # some sent, maybe one the server did but whose ack was lost

    room.start()
    wait_until(lambda: room.outbox_size() == 0, 30, what="the rest sent")
    rows = spa.query("SELECT transaction_id, action FROM audit_log WHERE actor = ? ORDER BY id", (actor,))
    expected = [(o["transaction_id"], a) for o in orders for a in ("claimed", "started", "finished")]
    assert rows == expected
    assert set(spa.query("SELECT status, room FROM transactions")) == {("awaiting_payment", "7")}
    assert not room.find(lambda line: line["msg"].startswith(("refused", "dropped")))
    assert room.terminate() == 0

    # Every acknowledgement lost: the full outbox again. The server replays each key's first result
    # (the claims' transactions among them), so nothing happens twice.
    shutil.rmtree(tmp_path / "room")
    shutil.copytree(tmp_path / "room-full", tmp_path / "room")
    acked_before = len(room.acked())
    room.start()
    wait_until(lambda: room.outbox_size() == 0, 30, what="the old outbox sent again")
    again = room.acked()[acked_before:]
    assert len(again) == 3 * CUSTOMERS and all(line["replayed"] for line in again)
    assert spa.query("SELECT transaction_id, action FROM audit_log WHERE actor = ? ORDER BY id", (actor,)) == expected
    assert room.terminate() == 0
