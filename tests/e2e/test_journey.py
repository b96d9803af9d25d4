"""The whole walk-in flow against the production server on loopback, with real Socket.IO clients
over WebSocket: acknowledgements, room broadcasts with rising versions, and the original events."""

from __future__ import annotations

from typing import Any

from tests.support import Client, LiveServer


def test_walk_in_to_paid(connect: Any, tokens: dict[str, str], live: LiveServer) -> None:
    kiosk, anna, till, lobby = connect("kiosk-1"), connect("Anna"), connect("cashier-1"), connect("lobby-1")
    watcher = connect("Ben")
    assert watcher.call("therapist_subscribe") == {"ok": True, "room": "therapist_queue"}
    assert till.call("cashier_subscribe") == {"ok": True, "room": "cashier_queue"}
    assert lobby.call("monitor_subscribe") == {"ok": True, "room": "monitor"}
    start = lobby.call("queue_snapshot")["version"]

    catalog = {s["name"]: s for s in kiosk.call("service_catalog")["services"]}
    swedish, foot, head = catalog["Swedish massage"], catalog["Foot reflexology"], catalog["Head and shoulders"]
    order = kiosk.call(
        "customer_confirm_selection",
        {"customer_name": "Maria Lopez", "items": [{"service_id": swedish["id"]}, {"service_id": foot["id"]}]},
    )
    assert order["ok"] and order["code"] == "A-001" and order["total"] == "70.00" and order["position"] == 1
    tid = order["transaction_id"]
    assert kiosk.wait_for("customer_selection_received") == {"transaction_id": tid}
    waiting = lobby.wait_for("monitor_updated", lambda d: d["version"] == start + 1)
    assert waiting["transaction"]["code"] == "A-001" and waiting["transaction"]["first_name"] == "Maria"
    assert "customer_name" not in waiting["transaction"]  # the lobby never gets full names
    (estimate,) = waiting["estimates"]
    assert (estimate["id"], estimate["position"], estimate["estimated_wait_min"]) == (tid, 1, 0)
    assert estimate["estimated_call_at"] is not None  # "about 14:40" on the screens

    claim = anna.call("therapist_confirm_next", {"therapist_token": tokens["Anna"], "room": "3"})
    assert claim["ok"] and claim["transaction"]["id"] == tid
    assert claim["transaction"]["customer_name"] == "Maria Lopez" and claim["transaction"]["total"] == "70.00"
    assert [i["name"] for i in claim["transaction"]["items"]] == ["Swedish massage", "Foot reflexology"]
    anna.call("therapist_start_service", {"transaction_id": tid})
    added = anna.call("therapist_add_service", {"transaction_id": tid, "service_id": head["id"]})
    assert added["transaction"]["total"] == "88.00"
    finished = anna.call("therapist_finish_service", {"transaction_id": tid})
    assert finished["transaction"]["status"] == "awaiting_payment"

    queued = till.wait_for("cashier_queue_updated", lambda d: d["reason"] == "finished")
    assert queued["transaction"]["total"] == "88.00"
    taken = till.call("cashier_claim_next", {"cashier_token": tokens["Carla"]})
    assert taken["transaction"]["id"] == tid and taken["transaction"]["cashier"]["name"] == "Carla"
    short = till.call("cashier_pay", {"transaction_id": tid, "amount_paid": "80.00"})
    assert short["error"]["code"] == "insufficient_payment"
    assert till.wait_for("cashier_pay_result")["ok"] is False
    paid = till.call("cashier_pay", {"transaction_id": tid, "amount_paid": "100.00", "method": "cash"})
    assert paid["change"] == "12.00" and paid["payment"]["amount_due"] == "88.00"
    assert till.wait_for("cashier_pay_result", lambda d: d["ok"]) == {
        "ok": True,
        "transaction_id": tid,
        "change": "12.00",
    }
    job = till.wait_for("print_receipt")
    assert job["open_drawer"] is True and job["receipt"]["code"] == "A-001" and job["receipt"]["cashier"] == "Carla"

    # Every room saw every change, in order, each version one more than the last.
    versions = list(range(start + 1, start + 8))
    for client, event in (
        (lobby, "monitor_updated"),
        (watcher, "therapist_queue_updated"),
        (till, "cashier_queue_updated"),
    ):
        client.wait_for(event, lambda d: d["version"] == versions[-1])
        assert [d["version"] for d in client.received(event)] == versions
    reasons = [d["reason"] for d in lobby.received("monitor_updated")]
    assert reasons == ["created", "claimed", "started", "service_added", "finished", "cashier_claimed", "paid"]
    # The kiosk that made it followed its transaction to the end.
    final = kiosk.wait_for("customer_txn_update", lambda d: d["status"] == "paid")
    assert final["code"] == "A-001"
    assert lobby.call("queue_snapshot")["version"] == versions[-1]


def test_positions_move_up_on_the_kiosk(connect: Any) -> None:
    kiosk, ben = connect("kiosk-1"), connect("Ben")
    item = [{"service_id": 1}]
    orders = [
        kiosk.call("customer_confirm_selection", {"customer_name": f"Guest {i}", "items": item}) for i in range(3)
    ]
    assert [o["position"] for o in orders] == [1, 2, 3]
    ben.call("therapist_confirm_next")
    last = orders[2]["transaction_id"]
    moved = kiosk.wait_for("customer_txn_update", lambda d: d["transaction_id"] == last and d["position"] == 2)
    assert moved["estimated_wait_min"] is not None


def test_idempotent_retry_over_the_wire(connect: Any) -> None:
    kiosk = connect("kiosk-1")
    payload = {"customer_name": "Retry", "items": [{"service_id": 1}], "idempotency_key": "kiosk-1:abc"}
    first = kiosk.call("customer_confirm_selection", payload)
    second = kiosk.call("customer_confirm_selection", payload)
    assert second.pop("replayed") is True and second == first
    assert len(kiosk.call("queue_snapshot")["waiting"]) == 1


def test_reconnecting_client_catches_up_from_the_snapshot(
    connect: Any, live: LiveServer, tokens: dict[str, str]
) -> None:
    lobby, kiosk = connect("lobby-1"), connect("kiosk-1")
    lobby.call("monitor_subscribe")
    kiosk.call("customer_confirm_selection", {"customer_name": "Before", "items": [{"service_id": 1}]})
    seen = lobby.wait_for("monitor_updated")["version"]
    lobby.close()
    for name in ("During One", "During Two"):
        kiosk.call("customer_confirm_selection", {"customer_name": name, "items": [{"service_id": 1}]})
    back = Client(live.url, tokens["lobby-1"]).connect()
    try:
        back.call("monitor_subscribe")
        snap = back.call("queue_snapshot")
        assert snap["version"] == seen + 2
        assert [w["first_name"] for w in snap["waiting"]] == ["Before", "During", "During"]
    finally:
        back.close()
