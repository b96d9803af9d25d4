"""Handlers through Flask-SocketIO's test client: quick checks of the protocol table without a
server process (the end-to-end tests use real clients over WebSocket)."""

from __future__ import annotations

from typing import Any

from flask import Flask


def client(app: Flask, token: str | None) -> Any:
    socketio = app.extensions["spa"].socketio
    return socketio.test_client(app, auth={"token": token} if token else None)


def test_connect_needs_a_token(app: Flask, tokens: dict[str, str]) -> None:
    assert not client(app, None).is_connected()
    assert not client(app, "dv_1_" + "x" * 30).is_connected()
    assert client(app, tokens["kiosk-1"]).is_connected()


def test_acks_and_the_original_events(app: Flask, tokens: dict[str, str]) -> None:
    kiosk = client(app, tokens["kiosk-1"])
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
    till = client(app, tokens["cashier-1"])
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
