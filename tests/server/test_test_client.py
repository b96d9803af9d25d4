"""Handlers through real clients on an in-process server: quick checks of the protocol table
without a server process (the end-to-end tests use `python -m server run`)."""

from __future__ import annotations

from tests.support import InProcessServer


def test_connect_needs_a_token(served: InProcessServer, tokens: dict[str, str]) -> None:
    assert not served.client(None).is_connected()
    assert not served.client("dv_1_" + "x" * 30).is_connected()
    assert served.client(tokens["kiosk-1"]).is_connected()


def test_acks_and_the_original_events(served: InProcessServer, tokens: dict[str, str]) -> None:
    kiosk = served.client(tokens["kiosk-1"])
    ack = kiosk.emit(
        "customer_confirm_selection", {"customer_name": "Maria", "items": [{"service_id": 1}]}, callback=True
    )
    assert ack["ok"] and ack["code"] == "A-001"
    received = kiosk.get_received()
    assert {
        "name": "customer_selection_received",
        "args": [{"transaction_id": ack["transaction_id"]}],
        "namespace": "/",
    } in received
    assert kiosk.emit("customer_confirm_selection", {"customer_name": "Maria"}, callback=True)["error"] == {
        "code": "invalid_payload",
        "message": "missing field 'items'",
    }
    till = served.client(tokens["cashier-1"])
    assert till.emit("cashier_claim_next", {}, callback=True)["error"]["code"] == "queue_empty"
    assert kiosk.emit("cashier_claim_next", {}, callback=True)["error"]["code"] == "forbidden"
    till.emit("cashier_pay", {"transaction_id": ack["transaction_id"], "amount_paid": "1.00"}, callback=True)
    results = [r["args"][0] for r in till.get_received() if r["name"] == "cashier_pay_result"]
    assert results == [
        {
            "ok": False,
            "error": {"code": "invalid_state", "message": "cannot pay a transaction that is pending therapist"},
        }
    ]
