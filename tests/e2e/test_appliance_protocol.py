"""What the appliances and their screens exchange through the server: desk sign-in by badge,
scanned look-ups shown on the till's screen, receipts kept until printed, health relays."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy

from tests.support import Client, LiveServer, serve_next


def awaiting_payment(connect: Any, name: str = "Maria Lopez") -> dict[str, Any]:
    kiosk, ben = connect("kiosk-1"), connect("Ben")
    order = kiosk.call("customer_confirm_selection", {"customer_name": name, "items": [{"service_id": 1}]})
    serve_next(ben)
    return order


def test_till_flow_badge_scan_receipt_and_resend(live: LiveServer, tokens: dict[str, str], connect: Any) -> None:
    appliance, screen = connect("cashier-1"), connect("cashier-1")  # one till: its daemon and its page
    # A scanned badge signs Carla in at this till; the till's page hears of it.
    signed = appliance.call("desk_sign_in", {"staff_token": tokens["Carla"]})
    assert signed == {"ok": True, "staff": {"id": signed["staff"]["id"], "name": "Carla", "role": "cashier"}}
    assert screen.wait_for("desk_signed_in")["staff"]["name"] == "Carla"
    assert appliance.call("desk_sign_in", {"staff_token": tokens["Anna"]})["error"]["code"] == "forbidden"

    order = awaiting_payment(connect)
    scanned = appliance.call(
        "cashier_lookup", {"code": order["code"].lower().replace("-", ""), "idempotency_key": "s1"}
    )
    assert scanned["transaction"]["status"] == "paying"
    assert scanned["transaction"]["cashier"]["name"] == "Carla"  # the badge, not the till, is the cashier
    shown = screen.wait_for("cashier_lookup_result")
    assert shown["transaction"]["code"] == order["code"]

    # The screen takes the money; the receipt goes to the till's appliance, which is offline now.
    appliance.close()
    paid = screen.call("cashier_pay", {"transaction_id": order["transaction_id"], "amount_paid": "50.00"})
    assert paid["print_job"]["job_id"] == f"rcpt-{paid['payment']['id']}"
    # Back online: the unprinted receipt is sent again on connect.
    back = Client(live.url, tokens["cashier-1"]).connect()
    try:
        job = back.wait_for("print_receipt")
        assert job["job_id"] == paid["print_job"]["job_id"] and job["receipt"]["cashier"] == "Carla"
        swedish = {
            "name": "Swedish massage",
            "quantity": 1,
            "unit_price": "45.00",
            "discount": "0.00",
            "tax_rate": "19.00",
        }
        assert job["receipt"]["items"] == [swedish]
        assert (job["receipt"]["total"], job["receipt"]["paid"], job["receipt"]["change"]) == ("45.00", "50.00", "5.00")
        assert back.call("print_jobs_pending")["jobs"] == [job]
        status = {"transaction_id": job["transaction_id"], "job_id": job["job_id"]}
        assert back.call("receipt_status", {**status, "ok": False, "state": "paper_out", "detail": "paper out"})["ok"]
        assert screen.wait_for("receipt_status")["state"] == "paper_out"
        assert back.call("print_jobs_pending")["jobs"] == [job]  # failed is not done: still pending
        assert back.call("receipt_status", {**status, "ok": True})["ok"]
        assert back.call("receipt_status", {**status, "ok": False, "state": "offline"})["ok"]  # late failure
        assert back.call("print_jobs_pending")["jobs"] == []  # printed stays printed
        copy = screen.call("receipt_reprint", {"transaction_id": job["transaction_id"]})
        assert copy["job_id"] == f"{job['job_id']}-r1"
        again = back.wait_for("print_receipt", lambda d: d["job_id"] == copy["job_id"])
        assert again["receipt"]["copy"] is True and again["open_drawer"] is False
        assert (
            back.call("receipt_status", {"transaction_id": 999, "job_id": job["job_id"], "ok": True})["error"]["code"]
            == "not_found"
        )
        assert back.call("desk_sign_out") == {"ok": True, "signed_out": True}
    finally:
        back.close()


@pytest.mark.server_env(SPA_TIMEZONE="Europe/Berlin")
def test_a_receipt_of_unknown_outcome_is_never_sent_again_and_a_copy_is_one_press_away(
    live: LiveServer, tokens: dict[str, str], connect: Any
) -> None:
    """The till sent the receipt and the printer failed before confirming it (issue 13): the server
    keeps that, tells the till's page, never sends the job again, and a reprint is a new copy."""
    appliance, screen = connect("cashier-1"), connect("cashier-1")
    order = awaiting_payment(connect, "Jonas Berg")
    paid = screen.call("cashier_pay", {"transaction_id": order["transaction_id"], "amount_paid": "45.00"})
    job = appliance.wait_for("print_receipt")
    # The payment's time as the server took it, and the zone the till prints it in (issue 13).
    assert job["receipt"]["timezone"] == "Europe/Berlin" and job["receipt"]["paid_at"].endswith("Z")
    assert live.healthz().json()["timezone"] == "Europe/Berlin"  # what provisioning sets a Pi's zone from
    status = {"transaction_id": job["transaction_id"], "job_id": job["job_id"]}
    said = {**status, "ok": False, "state": "paper_out", "detail": "paper out", "unknown": True}
    assert appliance.call("receipt_status", said) == {"ok": True}
    heard = screen.wait_for("receipt_status")
    assert (heard["ok"], heard["unknown"], heard["state"]) == (False, True, "paper_out")
    assert appliance.call("print_jobs_pending")["jobs"] == []  # not sent again, not even on reconnect
    assert appliance.call("receipt_status", {**status, "ok": False, "state": "offline"})["ok"]  # a late word
    engine = sqlalchemy.create_engine(live.database_url)
    try:
        with engine.connect() as conn:
            sql = sqlalchemy.text("SELECT state FROM print_jobs WHERE job_id = :job")
            assert conn.execute(sql, {"job": job["job_id"]}).scalar_one() == "unknown"
    finally:
        engine.dispose()

    first = screen.call("receipt_reprint", {"transaction_id": job["transaction_id"]})
    copy = appliance.wait_for("print_receipt", lambda d: d["job_id"] == first["job_id"])
    assert copy["receipt"]["copy"] is True and copy["open_drawer"] is False
    assert copy["receipt"]["items"] == job["receipt"]["items"] and paid["print_job"]["job_id"] == job["job_id"]
    copied = {"transaction_id": copy["transaction_id"], "job_id": copy["job_id"]}
    assert appliance.call("receipt_status", {**copied, "ok": False, "state": "offline", "unknown": True})["ok"]
    second = screen.call("receipt_reprint", {"transaction_id": job["transaction_id"]})
    assert second["job_id"] != first["job_id"]  # an unknown copy is done with: the next press is a new copy


def test_health_and_activity_reach_the_right_screens(shared_live: LiveServer, shared_connect: Any) -> None:
    till, page, lobby, kiosk, kiosk_page = (
        shared_connect(n) for n in ("cashier-1", "cashier-1", "lobby-1", "kiosk-1", "kiosk-1")
    )
    lobby.call("monitor_subscribe")
    beat = {
        "devices": {"printer": {"state": "paper_out", "detail": "paper out"}, "scanner": {"state": "ok"}},
        "software": "0.1.0",
    }
    assert till.call("appliance_heartbeat", beat) == {"ok": True}
    assert page.wait_for("appliance_status")["devices"]["printer"]["state"] == "paper_out"
    update = lobby.wait_for(
        "appliances_updated",
        lambda d: any(a["name"] == "cashier-1" and a["state"] == "degraded" for a in d["appliances"]),
    )
    states = {a["name"]: a["state"] for a in update["appliances"]}
    assert states["lobby-1"] == "never_seen"
    details = shared_live.healthz(details="1").json()["appliances"]
    assert {a["name"]: a["state"] for a in details}["cashier-1"] == "degraded"
    assert lobby.call("appliances_snapshot")["appliances"] == details
    assert kiosk.call("device_activity") == {"ok": True}
    assert kiosk_page.wait_for("device_activity")["at"].endswith("Z")
    assert page.received("device_activity") == []  # another device's activity stays with it
