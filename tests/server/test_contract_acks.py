"""Real commands through real clients on an in-process server: every acknowledgement and every event a
client receives matches its schema in the published contract (server/protocol/contract.py)."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from server.protocol import contract
from tests.support import InProcessServer
from tests.unit.test_contract_validator import assert_valid


class Caller:
    """One connection: sends commands, checks each acknowledgement, keeps what it receives."""

    def __init__(self, app: InProcessServer, token: str, acks: dict[str, list[Any]]) -> None:
        self.client = app.client(token)
        assert self.client.is_connected()
        self.acks = acks
        self.events: dict[str, list[Any]] = defaultdict(list)

    def __call__(self, event: str, payload: Any = None, expect: str | None = None) -> Any:
        args = () if payload is None else (payload,)
        ack = self.client.emit(event, *args, callback=True)
        assert_valid(contract.ack_schema(event), ack, f"the {event} acknowledgement")
        self.acks[event].append(ack)
        if expect is None:
            assert ack["ok"], f"{event} {payload}: {ack}"
        else:
            assert not ack["ok"] and ack["error"]["code"] == expect, f"{event}: {ack}"
        return ack

    def receive(self) -> dict[str, list[Any]]:
        for message in self.client.get_received():
            (data,) = message["args"]
            assert message["name"] in contract.OUTBOUND, f"{message['name']} is not in the contract"
            assert_valid(contract.event_schema(message["name"]), data, f"the {message['name']} event")
            self.events[message["name"]].append(data)
        return self.events


def test_every_ack_and_every_event_matches_the_contract(served: InProcessServer, tokens: dict[str, str]) -> None:
    acks: dict[str, list[Any]] = defaultdict(list)
    kiosk, till, room, lobby = (Caller(served, tokens[n], acks) for n in ("kiosk-1", "cashier-1", "room-1", "lobby-1"))
    anna, carla = Caller(served, tokens["Anna"], acks), Caller(served, tokens["Carla"], acks)
    ben = Caller(served, tokens["Ben"], acks)

    # Subscriptions and public reads on an empty queue.
    lobby("monitor_subscribe")
    room("therapist_subscribe")
    till("cashier_subscribe", {})
    carla("cashier_subscribe")
    lobby("queue_snapshot")
    lobby("service_catalog")
    room("therapist_confirm_next", None, expect="queue_empty")

    # Orders: one replayed by its key, one to be given back, one cancelled.
    maria = kiosk(
        "customer_confirm_selection",
        {"customer_name": "Maria Lopez", "items": [{"service_id": 1}], "idempotency_key": "k-1"},
    )
    assert kiosk(
        "customer_confirm_selection",
        {"customer_name": "Maria Lopez", "items": [{"service_id": 1}], "idempotency_key": "k-1"},
    )["replayed"]
    liam = kiosk("customer_confirm_selection", {"customer_name": "Liam", "items": [{"service_id": 5, "quantity": 2}]})
    zoe = kiosk("customer_confirm_selection", {"customer_name": "Zoe", "items": [{"service_id": 3}]})
    kiosk("customer_subscribe", {"transaction_id": maria["transaction_id"]})
    kiosk("get_transaction", {"transaction_id": maria["transaction_id"]})
    carla("get_transaction", {"transaction_id": maria["transaction_id"]})
    lobby("queue_snapshot")
    carla("queue_snapshot")
    kiosk(
        "customer_confirm_selection", {"customer_name": "X", "items": [{"service_id": 999}]}, expect="unknown_service"
    )

    # The therapist's side.
    tid = maria["transaction_id"]
    assert anna("therapist_confirm_next", {"room": "3"})["transaction"]["id"] == tid
    anna("therapist_add_service", {"transaction_id": tid, "service_id": 7})
    anna("therapist_start_service", {"transaction_id": tid})
    anna("therapist_finish_service", {"transaction_id": tid})
    assert room("therapist_confirm_next")["transaction"]["id"] == liam["transaction_id"]
    room("therapist_release", {"transaction_id": liam["transaction_id"]})
    anna("therapist_start_service", {"transaction_id": liam["transaction_id"]}, expect="invalid_state")
    carla("cancel_transaction", {"transaction_id": zoe["transaction_id"]})
    carla("queue_snapshot")

    # The till: health, a badge, a payment in a JSON number, the receipt.
    till("appliance_heartbeat", {"devices": {"printer": {"state": "paper_low", "detail": "", "last_event_at": 1.5e9}}})
    till("device_activity")
    till("desk_sign_in", {"staff_token": tokens["Carla"]})
    assert till("cashier_claim_next")["transaction"]["id"] == tid
    till("cashier_release", {"transaction_id": tid})
    assert till("cashier_lookup", {"code": "a1"})["transaction"]["status"] == "paying"
    till("cashier_pay", {"transaction_id": tid, "amount_paid": 50}, expect="insufficient_payment")
    paid = till("cashier_pay", {"transaction_id": tid, "amount_paid": 70.1})
    assert (paid["transaction"]["total"], paid["change"]) == ("63.00", "7.10")
    jobs = till("print_jobs_pending")["jobs"]
    till("receipt_status", {"transaction_id": tid, "job_id": jobs[0]["job_id"], "ok": True})
    carla("receipt_reprint", {"transaction_id": tid})
    till("desk_sign_out")
    lobby("appliances_snapshot")

    # The front desk (Carla, a cashier, has its powers) and a therapist on their own customer.
    anna("therapist_choose_room", {"room": "Room 1"})
    rooms = lobby("room_list")["rooms"]
    assert [r["name"] for r in rooms] == ["Room 1", "Room 2", "Room 3"]
    roster = carla("staff_roster")["therapists"]
    ben_id = next(t["id"] for t in roster if t["name"] == "Ben")
    carla("shift_end", {"staff_id": ben_id})
    carla("shift_start", {"staff_id": ben_id})
    noah = kiosk(
        "customer_confirm_selection", {"customer_name": "Noah", "items": [{"service_id": 1}, {"service_id": 2}]}
    )
    ida = kiosk("customer_confirm_selection", {"customer_name": "Ida", "items": [{"service_id": 3}]})
    carla("front_desk_priority", {"transaction_id": ida["transaction_id"], "priority": True, "reason": "vip"})
    assert anna("therapist_confirm_next")["transaction"]["id"] == ida["transaction_id"]  # priority first
    anna("front_desk_no_show", {"transaction_id": ida["transaction_id"]})
    carla("front_desk_recall", {"transaction_id": ida["transaction_id"]})
    carla("front_desk_assign", {"transaction_id": ida["transaction_id"], "therapist_id": ben_id})
    carla("front_desk_give_back", {"transaction_id": ida["transaction_id"]})
    anna("front_desk_assign", {"transaction_id": noah["transaction_id"]})
    carla("front_desk_transfer", {"transaction_id": noah["transaction_id"], "therapist_id": ben_id})
    ben("therapist_start_service", {"transaction_id": noah["transaction_id"]})
    ben("front_desk_undo_start", {"transaction_id": noah["transaction_id"]})
    ben("therapist_start_service", {"transaction_id": noah["transaction_id"]})
    item = ben("get_transaction", {"transaction_id": noah["transaction_id"]})["transaction"]["items"][1]
    ben("front_desk_remove_item", {"transaction_id": noah["transaction_id"], "item_id": item["id"]})
    ben("therapist_finish_service", {"transaction_id": noah["transaction_id"]})
    carla("front_desk_undo_finish", {"transaction_id": noah["transaction_id"]})
    carla("front_desk_recall", {"transaction_id": noah["transaction_id"]}, expect="invalid_state")
    kiosk("cancel_transaction", {"transaction_id": ida["transaction_id"], "ticket": ida["public_id"]})
    carla("cancel_transaction", {"transaction_id": liam["transaction_id"], "reason": "left", "note": "went home"})

    # The till: a discount, a void and a refund with the manager's PIN, a split payment with a tip,
    # the drawer's cash in, X report, close (Z) and opening again.
    from sqlalchemy import select

    from server.db.models import Staff

    with served.runtime.db.read() as s:
        dana = s.scalars(select(Staff.id).where(Staff.name == "Dana")).one()
    manager = {"staff_id": dana, "pin": "999999"}
    till("till_status")
    oli = kiosk("customer_confirm_selection", {"customer_name": "Oli", "items": [{"service_id": 1}, {"service_id": 5}]})
    pia = kiosk("customer_confirm_selection", {"customer_name": "Pia", "items": [{"service_id": 3}]})
    for made in (oli, pia):
        carla("front_desk_assign", {"transaction_id": made["transaction_id"], "therapist_id": ben_id})
        ben("therapist_start_service", {"transaction_id": made["transaction_id"]})
        ben("therapist_finish_service", {"transaction_id": made["transaction_id"]})
    oid, pid = oli["transaction_id"], pia["transaction_id"]
    assert till("cashier_lookup", {"code": oli["code"]})["transaction"]["status"] == "paying"
    till("cashier_discount", {"transaction_id": oid, "percent": "50", "reason": "birthday"}, expect="manager_needed")
    off = till("cashier_discount", {"transaction_id": oid, "percent": "5", "reason": "birthday"})
    assert off["transaction"]["order_discount"] != "0.00"
    till("cashier_pay", {"transaction_id": oid, "amount_paid": 5000}, expect="confirmation_needed")
    split = till(
        "cashier_pay",
        {
            "transaction_id": oid,
            "tenders": [{"method": "card", "amount": "20.00"}, {"method": "cash", "amount": "100.00"}],
            "tip": "3.00",
        },
    )
    assert split["payment"]["method"] == "split" and split["payment"]["receipt_number"]
    till("cashier_refund", {"transaction_id": oid, "reason": "unhappy"}, expect="manager_needed")
    item = split["transaction"]["items"][0]["id"]
    till(
        "cashier_refund",
        {
            "transaction_id": oid,
            "reason": "unhappy",
            "manager": manager,
            "items": [{"item_id": item}],
            "method": "cash",
        },
    )
    till("cashier_lookup", {"code": pia["code"]})
    till("cashier_void", {"transaction_id": pid, "reason": "walked out", "manager": manager})
    till("till_cash", {"kind": "in", "amount": "20.00", "reason": "change from the safe"})
    till("till_report_x")
    till("till_open", {"float": "100.00"}, expect="invalid_state")
    till("till_close", {"counted": {"5000": 3, "200": 4}, "counted_card": "20.00"})
    till("till_cash", {"kind": "out", "amount": "1.00", "reason": "x"}, expect="till_closed")
    till("till_status")
    till("till_open", {"float": "150.00"})

    # Refusals of every kind the contract names for a caller that is connected.
    kiosk("cashier_claim_next", None, expect="forbidden")
    kiosk("customer_confirm_selection", {"customer_name": "Maria"}, expect="invalid_payload")
    carla("get_transaction", {"transaction_id": 9999}, expect="not_found")
    till("cashier_claim_next", None, expect="queue_empty")
    till("cashier_pay", {"transaction_id": tid, "amount_paid": 10.001}, expect="invalid_payload")

    # Broadcasts come from their own thread: wait for the last change to reach every screen.
    last_version = carla("queue_snapshot")["version"]
    deadline = time.monotonic() + 10
    screens = ((room, "therapist_queue_updated"), (till, "cashier_queue_updated"), (lobby, "monitor_updated"))
    while time.monotonic() < deadline:
        for caller in (kiosk, till, room, lobby, anna, carla, ben):
            caller.receive()
        if all(max((e["version"] for e in c.events[name]), default=0) >= last_version for c, name in screens):
            break
        time.sleep(0.02)

    assert set(acks) == set(contract.ACKS), f"commands not exercised: {set(contract.ACKS) - set(acks)}"
    received = {name for c in (kiosk, till, room, lobby, anna, carla, ben) for name in c.events}
    # appliances_updated comes from the appliance watch, on its own clock; signed_out only to a
    # caller whose sign-in ended.
    expected = set(contract.OUTBOUND) - {"appliances_updated", "signed_out"}
    assert expected <= received, f"events never received: {expected - received}"
    assert till.events["print_receipt"][0]["receipt"]["paid"] == "70.10"
    kinds = [job["document"]["kind"] for job in till.events["print_document"]]
    assert kinds == ["refund", "void", "cash_in", "x_report", "z_report", "till_open"]
