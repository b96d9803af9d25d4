"""The caller is resolved on every event: a revoked token, an expired or a signed-out PIN session
stops working on a connection that is already open, which is told why and closed.

Before: the caller was resolved once at connect and reused for every event, so all three kept
working for as long as the connection stayed open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import update

from server.db.engine import Database
from server.db.models import Device, StaffSession
from server.protocol import contract
from tests.support import Client, LiveServer, wait_until
from tests.unit.test_contract_validator import assert_valid

# TokenCache's ttl (2 s) is how stale a revocation may be; the deadline leaves room for a busy machine.
DEADLINE_S = 8.0


def refused_and_closed(client: Client) -> dict[str, Any]:
    """Calls until one is refused (within the deadline); then the connection is told and closed."""

    def refused() -> dict[str, Any] | None:
        ack = client.call("queue_snapshot")
        return ack if ack["ok"] is False else None

    ack = wait_until(refused, DEADLINE_S, interval_s=0.2, what="a refusal after revocation")
    assert ack["error"]["code"] == "forbidden"
    told = client.wait_for("signed_out")
    assert told["code"] == "forbidden" and "ended" in told["message"]
    assert_valid(contract.OUTBOUND["signed_out"][1], told, "signed_out")
    wait_until(lambda: not client.sio.connected, DEADLINE_S, what="the server closing the connection")
    return ack


def pin_session(live: LiveServer, name: str, pin: str) -> str:
    staff = requests.get(f"{live.url}/api/staff", timeout=5).json()["staff"]
    staff_id = next(s["id"] for s in staff if s["name"] == name)
    reply = requests.post(f"{live.url}/api/sign-in", json={"staff_id": staff_id, "pin": pin}, timeout=10).json()
    assert reply["ok"], reply
    return str(reply["token"])


def test_a_revoked_device_token_stops_on_an_open_connection(live: LiveServer, tokens: dict[str, str]) -> None:
    kiosk = Client(live.url, tokens["lobby-1"]).connect()
    other = Client(live.url, tokens["kiosk-1"]).connect()
    db = Database(live.database_url, pool_size=1, max_overflow=0)
    try:
        assert kiosk.call("queue_snapshot")["ok"] is True
        with db.write() as s:
            s.execute(update(Device).where(Device.name == "lobby-1").values(active=False))
        refused_and_closed(kiosk)
        assert other.call("queue_snapshot")["ok"] is True  # only the revoked caller is affected
    finally:
        kiosk.close()
        other.close()
        db.dispose()


def test_a_signed_out_pin_session_stops_at_once(live: LiveServer, tokens: dict[str, str]) -> None:
    token = pin_session(live, "Anna", "1111")
    screen = Client(live.url, token).connect()
    try:
        assert screen.call("therapist_subscribe")["ok"] is True
        reply = requests.post(f"{live.url}/api/sign-out", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert reply.json()["ok"] is True
        refused_and_closed(screen)
    finally:
        screen.close()


def test_an_expired_pin_session_stops_on_an_open_connection(live: LiveServer, tokens: dict[str, str]) -> None:
    token = pin_session(live, "Ben", "2222")
    screen = Client(live.url, token).connect()
    db = Database(live.database_url, pool_size=1, max_overflow=0)
    try:
        assert screen.call("queue_snapshot")["ok"] is True
        session_id = int(token.split("_")[1])
        with db.write() as s:
            past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)  # stored as naive UTC
            s.execute(update(StaffSession).where(StaffSession.id == session_id).values(expires_at=past))
        refused_and_closed(screen)
    finally:
        screen.close()
        db.dispose()
