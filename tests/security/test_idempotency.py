"""A reused idempotency key with another payload is refused (`idempotency_mismatch`), never
answered with the first command's result; the same command again still replays."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update

from common.wire import RETRY_CLASS, ErrorCode, Retry
from server.db.engine import Database
from server.db.models import IdempotencyKey, Transaction
from server.service.commands import ConfirmSelection, ItemRequest, TxnAction
from server.service.unit_of_work import fingerprint
from tests.support import Client, LiveServer


def order(name: str, items: list[dict[str, int]], key: str = "kiosk-1:7f3a") -> dict[str, object]:
    return {"customer_name": name, "items": items, "idempotency_key": key}


def transactions(url: str) -> int:
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        with db.read() as s:
            return int(s.scalar(select(func.count()).select_from(Transaction)) or 0)
    finally:
        db.dispose()


def test_a_key_reused_with_another_payload_is_refused_over_a_real_socket(
    live: LiveServer, connect: Callable[..., Client]
) -> None:
    kiosk = connect("kiosk-1")
    first = kiosk.call("customer_confirm_selection", order("Maria Lopez", [{"service_id": 1}]))
    assert first["ok"] is True

    other = kiosk.call("customer_confirm_selection", order("Liam Brown", [{"service_id": 2}]))
    assert other["ok"] is False
    assert other["error"]["code"] == "idempotency_mismatch"
    assert "transaction_id" not in other  # the first customer's result is not handed out
    assert transactions(live.database_url) == 1

    # The same command again replays, including one that only reads differently on the wire.
    again = kiosk.call("customer_confirm_selection", order(" Maria Lopez ", [{"service_id": 1, "quantity": 1}]))
    assert again["ok"] is True and again["replayed"] is True
    assert again["transaction_id"] == first["transaction_id"]

    # The key belongs to the kiosk: a therapist's command under the same key is their own.
    anna = connect("Anna")
    claimed = anna.call("therapist_confirm_next", {"idempotency_key": "kiosk-1:7f3a"})
    assert claimed["ok"] is True and "replayed" not in claimed
    # A changed payload of a therapist command is refused too, and changes nothing.
    tid = claimed["transaction"]["id"]
    started = anna.call("therapist_start_service", {"transaction_id": tid, "idempotency_key": "s1"})
    assert started["ok"] is True
    mismatch = anna.call("therapist_start_service", {"transaction_id": tid + 1, "idempotency_key": "s1"})
    assert mismatch["error"]["code"] == "idempotency_mismatch"
    assert transactions(live.database_url) == 1

    # A key stored before hashes were kept (migration 0006) replays as it always did.
    db = Database(live.database_url, pool_size=1, max_overflow=0)
    try:
        with db.write() as s:
            s.execute(update(IdempotencyKey).values(payload_hash=None))
    finally:
        db.dispose()
    legacy = kiosk.call("customer_confirm_selection", order("Someone Else", [{"service_id": 3}]))
    assert legacy["replayed"] is True and legacy["transaction_id"] == first["transaction_id"]


def test_the_code_is_final_for_clients() -> None:
    assert RETRY_CLASS[ErrorCode.IDEMPOTENCY_MISMATCH] is Retry.FINAL


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (
            ConfirmSelection("Maria", (ItemRequest(1, 1),), "k1"),
            ConfirmSelection("Maria", (ItemRequest(1, 1),), "k2"),
            True,
        ),  # noqa: E501
        (ConfirmSelection("Maria", (ItemRequest(1, 1),)), ConfirmSelection("Maria", (ItemRequest(1, 2),)), False),
        (ConfirmSelection("Maria", (ItemRequest(1, 1),)), ConfirmSelection("Liam", (ItemRequest(1, 1),)), False),
        (TxnAction(1, None, "k"), TxnAction(1, None, None), True),
        (TxnAction(1, None), TxnAction(2, None), False),
        (TxnAction(1, "st_1_x"), TxnAction(1, None), False),
    ],
)
def test_the_fingerprint_is_of_the_command_without_its_key(a: object, b: object, same: bool) -> None:
    assert len(fingerprint(a)) == 64
    assert (fingerprint(a) == fingerprint(b)) is same
