"""A room box acts only on the claims it holds, a therapist only on their own customers.

Before: a room box with nobody signed in could start, add 20 services to and finish another
therapist's customer (the rule let a device on its own act on any claim)."""

from __future__ import annotations

from typing import Any


def test_a_room_box_on_its_own_cannot_touch_a_therapists_customer(shared_connect: Any) -> None:
    kiosk, anna, room = shared_connect("kiosk-1"), shared_connect("Anna"), shared_connect("room-2")
    made = kiosk.call("customer_confirm_selection", {"customer_name": "Maria", "items": [{"service_id": 1}]})
    claimed = anna.call("therapist_confirm_next", {})
    assert claimed["ok"] and claimed["transaction"]["id"] == made["transaction_id"]
    txn = {"transaction_id": made["transaction_id"]}
    for event, payload in [
        ("therapist_start_service", txn),
        ("therapist_add_service", {**txn, "service_id": 1, "quantity": 20}),
        ("therapist_finish_service", txn),
        ("therapist_release", txn),
    ]:
        ack = room.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (event, ack)
    view = anna.call("get_transaction", txn)["transaction"]
    assert view["status"] == "therapist_confirmed" and len(view["items"]) == 1  # nothing changed
    assert anna.call("therapist_start_service", txn)["ok"] is True  # her own customer, still hers


def test_a_room_box_goes_on_acting_for_the_customer_it_claimed(shared_connect: Any) -> None:
    kiosk, room, other = shared_connect("kiosk-1"), shared_connect("room-1"), shared_connect("room-2")
    kiosk.call("customer_confirm_selection", {"customer_name": "Liam", "items": [{"service_id": 1}]})
    claimed = room.call("therapist_confirm_next", {"room": "7"})
    txn = {"transaction_id": claimed["transaction"]["id"]}
    assert room.call("therapist_start_service", txn)["ok"] is True
    # Started: the box still holds it, and no other box may finish it.
    assert other.call("therapist_finish_service", txn)["error"]["code"] == "forbidden"
    finished = room.call("therapist_finish_service", txn)
    assert finished["ok"] is True and finished["transaction"]["status"] == "awaiting_payment"
