"""Who may do what: tokens at connect, capabilities per event, and nothing changed by a refusal."""

from __future__ import annotations

from typing import Any

import requests

from tests.support import Client, LiveServer, refused_connect


def test_connect_without_a_valid_token_is_refused(shared_live: LiveServer, shared_tokens: dict[str, str]) -> None:
    live, tokens = shared_live, shared_tokens
    kiosk = tokens["kiosk-1"]
    tampered = kiosk[:-1] + ("B" if kiosk.endswith("A") else "A")  # one character off, never the token itself
    for token in (None, "", "dv_1_" + "x" * 32, tampered, "st_99_" + "y" * 32, 42):
        reason = refused_connect(live.url, {"token": token} if token is not None else None)
        assert "valid staff or device token" in reason


REFUSED = [
    ("kiosk-1", "cashier_pay", {"transaction_id": 1, "amount_paid": "100.00"}),
    ("kiosk-1", "therapist_confirm_next", {}),
    ("Anna", "cashier_pay", {"transaction_id": 1, "amount_paid": "100.00"}),
    ("Anna", "cashier_claim_next", {}),
    ("Anna", "customer_confirm_selection", {"customer_name": "X", "items": [{"service_id": 1}]}),
    ("Carla", "therapist_confirm_next", {}),
    ("lobby-1", "customer_confirm_selection", {"customer_name": "X", "items": [{"service_id": 1}]}),
    ("lobby-1", "therapist_subscribe", None),
    ("lobby-1", "cancel_transaction", {"transaction_id": 1}),
    ("room-1", "cashier_lookup", {"code": "A-001"}),
    ("Anna", "appliance_heartbeat", {"devices": {}}),
]


def without_time(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without what moves with the clock (the time, when each customer is likely called)."""
    out = {k: v for k, v in snapshot.items() if k not in ("server_time", "intake")}
    out["waiting"] = [{k: v for k, v in w.items() if k != "estimated_call_at"} for w in snapshot["waiting"]]
    return out


def test_roles_are_enforced(shared_connect: Any) -> None:
    kiosk = shared_connect("kiosk-1")
    kiosk.call("customer_confirm_selection", {"customer_name": "Maria", "items": [{"service_id": 1}]})
    before = without_time(kiosk.call("queue_snapshot"))
    callers = {who: shared_connect(who) for who in {who for who, _, _ in REFUSED}}
    for who, event, payload in REFUSED:
        ack = callers[who].call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (who, event, ack)
    assert without_time(kiosk.call("queue_snapshot")) == before


def test_a_therapist_cannot_claim_for_someone_else(shared_connect: Any, shared_tokens: dict[str, str]) -> None:
    connect, tokens = shared_connect, shared_tokens
    connect("kiosk-1").call("customer_confirm_selection", {"customer_name": "M", "items": [{"service_id": 1}]})
    ack = connect("Anna").call("therapist_confirm_next", {"therapist_token": tokens["Ben"]})
    assert ack["error"]["code"] == "forbidden"
    ack = connect("room-1").call("therapist_confirm_next", {"therapist_token": tokens["Carla"]})
    assert ack["error"]["code"] == "forbidden"  # a cashier's token is not a therapist's
    ok = connect("room-1").call("therapist_confirm_next", {"therapist_token": tokens["Ben"]})
    assert ok["transaction"]["therapist"]["name"] == "Ben" and ok["transaction"]["room"] == "Room 1"  # the box's room


def test_http_json_is_behind_tokens(live: LiveServer, tokens: dict[str, str], connect: Any) -> None:
    connect("kiosk-1").call(
        "customer_confirm_selection", {"customer_name": "Maria Lopez", "items": [{"service_id": 1}]}
    )
    assert requests.get(f"{live.url}/api/queue", timeout=5).status_code == 401
    bad = requests.get(f"{live.url}/api/queue", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "forbidden"
    public = requests.get(f"{live.url}/api/queue", headers={"Authorization": f"Bearer {tokens['lobby-1']}"}, timeout=5)
    assert public.status_code == 200 and public.json()["waiting"][0]["first_name"] == "Maria"
    assert "customer_name" not in public.json()["waiting"][0]
    staff = requests.get(
        f"{live.url}/api/transactions/1", headers={"Authorization": f"Bearer {tokens['Carla']}"}, timeout=5
    )
    assert staff.json()["customer_name"] == "Maria Lopez" and staff.json()["total"] == "45.00"
    missing = requests.get(
        f"{live.url}/api/transactions/99", headers={"Authorization": f"Bearer {tokens['Carla']}"}, timeout=5
    )
    assert missing.status_code == 404


def test_pin_sign_in_gives_a_working_session_and_limits_guessing(shared_live: LiveServer) -> None:
    live = shared_live
    staff = {s["name"]: s for s in requests.get(f"{live.url}/api/staff", timeout=5).json()["staff"]}
    anna = staff["Anna"]["id"]
    wrong = requests.post(f"{live.url}/api/sign-in", json={"staff_id": anna, "pin": "0000"}, timeout=5)
    assert wrong.status_code == 401
    good = requests.post(f"{live.url}/api/sign-in", json={"staff_id": anna, "pin": "1111"}, timeout=5).json()
    assert good["ok"] and good["token"].startswith("ss_") and good["staff"]["role"] == "therapist"
    client = Client(live.url, good["token"]).connect()
    try:
        assert client.call("therapist_subscribe")["ok"] is True
        assert client.call("cashier_subscribe")["error"]["code"] == "forbidden"
    finally:
        client.close()
    out = requests.post(f"{live.url}/api/sign-out", headers={"Authorization": f"Bearer {good['token']}"}, timeout=5)
    assert out.json() == {"ok": True}
    assert "valid staff or device token" in refused_connect(live.url, {"token": good["token"]})
    for _ in range(4):
        requests.post(f"{live.url}/api/sign-in", json={"staff_id": anna, "pin": "9998"}, timeout=5)
    blocked = requests.post(f"{live.url}/api/sign-in", json={"staff_id": anna, "pin": "1111"}, timeout=5)
    assert blocked.status_code == 429  # five wrong PINs: even the right one waits
    assert requests.post(f"{live.url}/api/sign-in", json={"staff_id": anna}, timeout=5).status_code == 400
