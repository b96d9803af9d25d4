"""The back office's JSON (/api/office/…) on SQLite and MariaDB: every route for an admin, refused
to anyone else, bad input refused with nothing changed, every change audited (never a PIN or a
token), a price change that leaves paid transactions alone, and what a change ends — a revoked
device's or a deactivated person's open connection — told `signed_out` and closed (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from common.wire import PaymentMethod
from server.app import create_app
from server.db.engine import Database
from server.db.models import AuditEntry, PrintJob, Transaction, TransactionItem
from server.protocol import schema
from server.service import commands
from server.service.principals import Principal
from tests.support import InProcessServer, load_demo, wait_until

TABLES = ("services", "staff", "staff_skills", "staff_sessions", "devices", "rooms", "settings", "audit_log")


@pytest.fixture
def people(db_url: str) -> dict[str, dict[str, Any]]:
    """The demo data, loaded before the app starts its threads (SQLite: no lock to wait for)."""
    return load_demo(db_url)


@pytest.fixture
def app(db_url: str, people: dict[str, dict[str, Any]]) -> Iterator[Flask]:
    application = create_app({"database_url": db_url, "testing": True, "public_url": ""})
    yield application
    application.extensions["spa"].stop()


@pytest.fixture
def spa_db(app: Flask) -> Database:
    """The app's own database: no second engine on the SQLite file while the app's threads run."""
    db: Database = app.extensions["spa"].db
    return db


class Office:
    """An admin (or whoever `token` is) calling the office's JSON."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if raw is not None:
            kwargs.update(data=raw, content_type="application/json")
        elif body is not None:
            kwargs["json"] = body
        response = self.client.open(f"/api/office/{path}", method=method, **kwargs)
        return response.status_code, response.get_json()

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        assert status == 200 and answer["ok"] is True, (status, answer)
        return answer

    def refused(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int = 400,
        code: str = "invalid_payload",
        raw: bytes | None = None,
    ) -> str:
        got, answer = self.call(method, path, body, raw=raw)
        assert got == status, (got, answer)
        assert answer["ok"] is False and answer["error"]["code"] == code, answer
        return str(answer["error"]["message"])


def sign_in(client: FlaskClient, staff_id: int, pin: str) -> str:
    answer = client.post("/api/sign-in", json={"staff_id": staff_id, "pin": pin}).get_json()
    assert answer["ok"], answer
    return str(answer["token"])


@pytest.fixture
def office(app: Flask, people: dict[str, Any]) -> Office:
    client = app.test_client()
    return Office(client, sign_in(client, people["Dana"]["id"], "999999"))


def state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the office could touch: equal before and after a refused call."""
    with db.read() as s:
        return {t: sorted(map(tuple, s.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}


def audits(db: Database, action: str) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [
            {"actor": a.actor, "staff_id": a.staff_id, "at": a.created_at, **json.loads(a.detail or "{}")} for a in rows
        ]


def no_secret_in_audit(db: Database, *secrets: str) -> None:
    with db.read() as s:
        details = " ".join(d or "" for d in s.scalars(select(AuditEntry.detail)))
    for secret in secrets:
        assert secret not in details


# ---- who may ------------------------------------------------------------------------------------

ROUTES = [
    ("GET", "services", None),
    ("POST", "services", {"name": "Sauna", "price": "12.00", "duration_min": 30}),
    ("PATCH", "services/1", {"price": "1.00"}),
    ("GET", "staff", None),
    ("POST", "staff", {"name": "Eve", "role": "admin"}),
    ("PATCH", "staff/1", {"active": False}),
    ("POST", "staff/1/pin", {}),
    ("GET", "devices", None),
    ("POST", "devices", {"name": "kiosk-9", "role": "kiosk"}),
    ("PATCH", "devices/1", {"name": "x"}),
    ("POST", "devices/1/revoke", None),
    ("POST", "devices/1/reissue", None),
    ("GET", "rooms", None),
    ("POST", "rooms", {"name": "Room 9"}),
    ("PATCH", "rooms/1", {"name": "Room 9"}),
    ("GET", "settings", None),
    ("PATCH", "settings", {"spa_name": "Mine"}),
    ("GET", "changes", None),
]


def test_only_an_admin_may_use_the_office(app: Flask, people: dict[str, Any], spa_db: Database) -> None:
    client = app.test_client()
    callers = {
        "nobody": None,
        "garbage": "st_1_" + "x" * 30,
        "cashier": sign_in(client, people["Carla"]["id"], "3333"),
        "therapist badge": people["Anna"]["token"],
        "till": people["cashier-1"]["token"],
    }
    before = state(spa_db)
    for who, token in callers.items():
        for method, path, body in ROUTES:
            status, answer = Office(client, token).call(method, path, body)
            assert status == 401 and answer["error"]["code"] == "forbidden", (who, method, path, answer)
    assert state(spa_db) == before
    # The admin's badge token works as well as their PIN session.
    assert Office(client, people["Dana"]["token"]).ok("GET", "services")["services"]


# ---- services -----------------------------------------------------------------------------------


def test_services_added_changed_and_audited(office: Office, spa_db: Database, people: dict[str, Any]) -> None:
    anna = people["Anna"]["id"]
    added = office.ok(
        "POST",
        "services",
        {
            "name": " Sauna ",
            "price": "12.50",
            "duration_min": 30,
            "tax_rate": "7.00",
            "category": "Heat",
            "therapists": [anna],
        },
    )["service"]
    assert added == {
        **added,
        "name": "Sauna",
        "price": "12.50",
        "tax_rate": "7.00",
        "therapists": [anna],
        "active": True,
        "category": "Heat",
    }
    changed = office.ok("PATCH", f"services/{added['id']}", {"price": "14", "active": False})["service"]
    assert changed["price"] == "14.00" and changed["active"] is False
    again = office.ok("POST", f"services/{added['id']}", {"therapists": [], "sort_order": 0})["service"]
    assert again["therapists"] == [] and again["sort_order"] == 0
    listed = {s["name"]: s for s in office.ok("GET", "services")["services"]}
    assert listed["Sauna"]["price"] == "14.00" and listed["Sauna"]["therapists"] == []
    # A new service without therapists named: every active therapist does it.
    default = office.ok("POST", "services", {"name": "Mud bath", "price": 20, "duration_min": 40})["service"]
    assert default["therapists"] == sorted([anna, people["Ben"]["id"]])

    entries = audits(spa_db, "office_service_changed")
    assert entries[0]["actor"] == f"staff:{people['Dana']['id']}" and entries[0]["staff_id"] == people["Dana"]["id"]
    assert entries[0]["changes"]["price"] == {"before": "12.50", "after": "14.00"}
    assert entries[0]["changes"]["active"] == {"before": True, "after": False}
    assert audits(spa_db, "office_service_added")[0]["after"]["name"] == "Sauna"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "services", {"price": "1.00", "duration_min": 30}, 400, "invalid_payload"),  # no name
        ("POST", "services", {"name": "A", "price": "1.001", "duration_min": 30}, 400, "invalid_payload"),
        ("POST", "services", {"name": "A", "price": "-1.00", "duration_min": 30}, 400, "invalid_payload"),
        ("POST", "services", {"name": "A", "price": "1.00", "duration_min": 0}, 400, "invalid_payload"),
        (
            "POST",
            "services",
            {"name": "A", "price": "1.00", "duration_min": 30, "colour": "red"},
            400,
            "invalid_payload",
        ),
        (
            "POST",
            "services",
            {"name": "A", "price": "1.00", "duration_min": 30, "tax_rate": "101"},
            400,
            "invalid_payload",
        ),
        ("POST", "services", {"name": "A", "price": "1.00", "duration_min": 30, "therapists": [999]}, 404, "not_found"),
        ("POST", "services", {"name": "Facial", "price": "1.00", "duration_min": 30}, 409, "invalid_state"),
        ("POST", "services", ["not", "an", "object"], 400, "invalid_payload"),
        ("PATCH", "services/1", {}, 400, "invalid_payload"),
        ("PATCH", "services/1", {"name": "Facial"}, 409, "invalid_state"),
        ("PATCH", "services/1", {"active": "yes"}, 400, "invalid_payload"),
        ("PATCH", "services/999", {"price": "1.00"}, 404, "not_found"),
        ("POST", "staff", {"name": "Eve", "role": "boss"}, 400, "invalid_payload"),
        ("POST", "staff", {"name": "Eve", "role": "admin", "pin": "1234"}, 400, "invalid_payload"),
        ("POST", "staff", {"name": "Eve", "role": "cashier", "pin": "12ab"}, 400, "invalid_payload"),
        ("POST", "staff", {"name": "", "role": "cashier"}, 400, "invalid_payload"),
        ("POST", "staff", {"name": "Eve", "role": "therapist", "skills": [999]}, 404, "not_found"),
        ("PATCH", "staff/999", {"active": False}, 404, "not_found"),
        ("POST", "staff/999/pin", {}, 404, "not_found"),
        ("POST", "staff/1/pin", {"pin": "12"}, 400, "invalid_payload"),
        ("POST", "devices", {"name": "has space", "role": "kiosk"}, 400, "invalid_payload"),
        ("POST", "devices", {"name": "kiosk-1", "role": "kiosk"}, 409, "invalid_state"),
        ("POST", "devices", {"name": "k2", "role": "toaster"}, 400, "invalid_payload"),
        ("POST", "devices", {"name": "k2", "role": "room", "room": "Nowhere"}, 404, "not_found"),
        ("PATCH", "devices/1", {"role": "lobby"}, 400, "invalid_payload"),
        ("POST", "devices/999/revoke", None, 404, "not_found"),
        ("POST", "devices/999/reissue", None, 404, "not_found"),
        ("POST", "rooms", {"name": "Room 1"}, 409, "invalid_state"),
        ("POST", "rooms", {"name": "Room\n4"}, 400, "invalid_payload"),
        ("PATCH", "rooms/1", {"name": "Room 2"}, 409, "invalid_state"),
        ("PATCH", "rooms/999", {"name": "Room 9"}, 404, "not_found"),
        ("PATCH", "settings", {"spa_name": ""}, 400, "invalid_payload"),
        ("PATCH", "settings", {"spa_name": "Fine", "last_entry_min": -1}, 400, "invalid_payload"),
        ("PATCH", "settings", {"opening_hours": {"monday": ["21:00", "09:00"]}}, 400, "invalid_payload"),
        ("PATCH", "settings", {"largest_note": "abc"}, 400, "invalid_payload"),
        ("PATCH", "settings", {"secret_key": "x"}, 400, "invalid_payload"),
        ("GET", "changes?limit=0", None, 400, "invalid_payload"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    office: Office, spa_db: Database, method: str, path: str, body: Any, status: int, code: str
) -> None:
    before = state(spa_db)
    office.refused(method, path, body, status=status, code=code)
    assert state(spa_db) == before


def test_a_body_that_is_not_json_or_too_big_is_refused(office: Office, spa_db: Database) -> None:
    before = state(spa_db)
    assert "not JSON" in office.refused("POST", "services", raw=b"{name: 1")
    assert "larger" in office.refused("POST", "services", raw=b'{"name": "' + b"a" * 70_000 + b'"}')
    assert state(spa_db) == before


def test_a_price_change_never_alters_a_transaction_already_paid(
    app: Flask, office: Office, people: dict[str, Any], db_url: str
) -> None:
    rt = app.extensions["spa"]
    actor = {n: Principal(p["kind"], p["id"], p["role"], p["name"]) for n, p in people.items()}
    ordered = rt.service.confirm_selection(
        actor["kiosk-1"], schema.ConfirmSelection("Maria Lopez", (schema.ItemRequest(7, 1),), None)
    )
    tid = int(ordered["transaction_id"])
    rt.service.claim_for_therapist(actor["Anna"], schema.TherapistClaim(None, "1"))
    rt.service.start_service(actor["Anna"], schema.TxnAction(tid))
    rt.service.finish_service(actor["Anna"], schema.TxnAction(tid))
    rt.service.lookup_for_cashier(actor["cashier-1"], commands.Lookup(ordered["code"], None))
    paid = rt.till.pay(actor["cashier-1"], commands.Pay(tid, 1800, PaymentMethod.CASH, None, None, (("cash", 1800),)))
    assert paid["change"] == "0.00"

    def recorded() -> tuple[Any, ...]:
        with rt.db.read() as s:
            txn = s.get(Transaction, tid)
            assert txn is not None
            items = [
                (i.name, i.unit_price_cents, i.tax_rate_bp)
                for i in s.scalars(select(TransactionItem).where(TransactionItem.transaction_id == tid))
            ]
            receipts = list(s.scalars(select(PrintJob.payload).where(PrintJob.transaction_id == tid)))
            return txn.total_cents, items, receipts

    before = recorded()
    assert before[0] == 1800 and before[1] == [("Head and shoulders", 1800, 1900)] and before[2]
    office.ok("PATCH", "services/7", {"price": "25.00", "tax_rate": "7.00", "name": "Neck and shoulders"})
    assert recorded() == before
    view = rt.service.get_transaction(actor["Dana"], tid)
    assert view["total"] == "18.00" and view["items"][0]["unit_price"] == "18.00"
    # The next customer pays the new price.
    later = rt.service.confirm_selection(
        actor["kiosk-1"], schema.ConfirmSelection("Sven Ek", (schema.ItemRequest(7, 1),), None)
    )
    assert rt.service.get_transaction(actor["Dana"], int(later["transaction_id"]))["total"] == "25.00"


# ---- staff --------------------------------------------------------------------------------------


def test_staff_added_with_a_pin_shown_once(app: Flask, office: Office, spa_db: Database) -> None:
    added = office.ok("POST", "staff", {"name": "Eve", "role": "cashier"})["staff"]
    pin = added["pin"]
    assert len(pin) == 4 and pin.isdigit()
    assert sign_in(app.test_client(), added["id"], pin)
    listed = {s["name"]: s for s in office.ok("GET", "staff")["staff"]}
    assert "pin" not in listed["Eve"] and listed["Eve"]["has_pin"] is True
    admin = office.ok("POST", "staff", {"name": "Olga", "role": "admin"})["staff"]
    assert len(admin["pin"]) == 6
    chosen = office.ok("POST", "staff", {"name": "Tom", "role": "therapist", "pin": "24680", "skills": [1, 2]})
    assert chosen["staff"]["skills"] == [1, 2] and chosen["staff"]["pin"] == "24680"
    no_secret_in_audit(spa_db, pin, admin["pin"], "24680")
    assert [a["after"]["name"] for a in audits(spa_db, "office_staff_added")] == ["Eve", "Olga", "Tom"]


def test_deactivating_ends_sign_ins_and_the_last_admin_stays(
    app: Flask, office: Office, people: dict[str, Any], spa_db: Database
) -> None:
    client = app.test_client()
    carla = sign_in(client, people["Carla"]["id"], "3333")
    assert client.get("/api/queue", headers={"Authorization": f"Bearer {carla}"}).status_code == 200
    off = office.ok("PATCH", f"staff/{people['Carla']['id']}", {"active": False})["staff"]
    assert off["active"] is False
    assert client.get("/api/queue", headers={"Authorization": f"Bearer {carla}"}).status_code == 401
    status = client.post("/api/sign-in", json={"staff_id": people["Carla"]["id"], "pin": "3333"}).status_code
    assert status in (400, 401)
    assert audits(spa_db, "office_staff_changed")[-1]["changes"]["active"] == {"before": True, "after": False}

    dana = people["Dana"]["id"]
    before = state(spa_db)
    assert "yourself" in office.refused("PATCH", f"staff/{dana}", {"active": False}, status=409, code="invalid_state")
    assert "yourself" in office.refused("PATCH", f"staff/{dana}", {"role": "desk"}, status=409, code="invalid_state")
    assert state(spa_db) == before
    # With a second admin, Dana may be switched off by them, but they cannot then switch themselves off.
    olga = office.ok("POST", "staff", {"name": "Olga", "role": "admin", "pin": "135790"})["staff"]
    other = Office(client, sign_in(client, olga["id"], "135790"))
    other.ok("PATCH", f"staff/{dana}", {"active": False})
    assert office.call("GET", "services")[0] == 401  # Dana's session ended
    other.refused("PATCH", f"staff/{olga['id']}", {"active": False}, status=409, code="invalid_state")


def test_promoting_to_admin_gives_an_admins_pin_and_a_therapist_the_menu(
    app: Flask, office: Office, people: dict[str, Any], spa_db: Database
) -> None:
    erik = people["Erik"]["id"]
    promoted = office.ok("PATCH", f"staff/{erik}", {"role": "admin"})["staff"]
    assert promoted["role"] == "admin" and len(promoted["pin"]) == 6
    assert sign_in(app.test_client(), erik, promoted["pin"])
    no_secret_in_audit(spa_db, promoted["pin"])
    carla = office.ok("PATCH", f"staff/{people['Carla']['id']}", {"role": "therapist"})["staff"]
    assert carla["skills"] == [1, 2, 3, 4, 5, 6, 7] and "pin" not in carla
    renamed = office.ok("PATCH", f"staff/{people['Ben']['id']}", {"name": "Benjamin", "skills": [1]})["staff"]
    assert renamed["name"] == "Benjamin" and renamed["skills"] == [1]


def test_a_pin_reset_stops_the_old_pin(app: Flask, office: Office, people: dict[str, Any], spa_db: Database) -> None:
    client = app.test_client()
    anna = people["Anna"]["id"]
    session = sign_in(client, anna, "1111")
    reset = office.ok("POST", f"staff/{anna}/pin", None)["staff"]
    assert reset["id"] == anna and len(reset["pin"]) == 4
    assert client.get("/api/queue", headers={"Authorization": f"Bearer {session}"}).status_code == 401
    if reset["pin"] != "1111":
        assert client.post("/api/sign-in", json={"staff_id": anna, "pin": "1111"}).status_code != 200
    assert sign_in(client, anna, reset["pin"])
    chosen = office.ok("POST", f"staff/{anna}/pin", {"pin": "8642"})["staff"]
    assert chosen["pin"] == "8642" and sign_in(client, anna, "8642")
    assert len(audits(spa_db, "office_pin_reset")) == 2
    no_secret_in_audit(spa_db, reset["pin"], "8642")


# ---- devices ------------------------------------------------------------------------------------


def test_devices_added_renamed_revoked_and_reissued(
    app: Flask, office: Office, people: dict[str, Any], spa_db: Database
) -> None:
    client = app.test_client()

    def works(token: str) -> bool:
        return client.get("/api/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    added = office.ok("POST", "devices", {"name": "room-3", "role": "room", "room": "Room 3"})["device"]
    token = added["token"]
    assert added["room"] == "Room 3" and added["page"] == "/therapist"
    assert added["url"] == f"http://localhost/therapist#token={token}"
    assert added["qr_svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"') and works(token)
    renamed = office.ok("PATCH", f"devices/{added['id']}", {"name": "room-three", "room": None})["device"]
    assert renamed["name"] == "room-three" and renamed["room"] is None and "token" not in renamed

    revoked = office.ok("POST", f"devices/{added['id']}/revoke")["device"]
    assert revoked["active"] is False and "token" not in revoked
    wait_until(lambda: not works(token), 5, what="the revoked token to stop")
    reissued = office.ok("POST", f"devices/{added['id']}/reissue")["device"]
    assert reissued["active"] is True and reissued["token"] != token and works(reissued["token"])
    assert reissued["url"].endswith(f"/therapist#token={reissued['token']}")
    assert not works(token)

    lobby = office.ok("POST", f"devices/{people['lobby-1']['id']}/reissue")["device"]
    assert not works(people["lobby-1"]["token"]) and works(lobby["token"])
    no_secret_in_audit(spa_db, token, reissued["token"], lobby["token"])
    assert [a["device"] for a in audits(spa_db, "office_device_reissued")] == [added["id"], people["lobby-1"]["id"]]
    listed = {d["name"]: d for d in office.ok("GET", "devices")["devices"]}
    assert listed["room-three"]["active"] is True and "token" not in listed["room-three"]


def test_a_device_address_uses_the_public_url_when_set(db_url: str) -> None:
    people = load_demo(db_url)
    application = create_app({"database_url": db_url, "testing": True, "public_url": "https://spa.example/"})
    try:
        client = application.test_client()
        office = Office(client, sign_in(client, people["Dana"]["id"], "999999"))
        device = office.ok("POST", "devices", {"name": "kiosk-2", "role": "kiosk"})["device"]
        assert device["url"] == f"https://spa.example/kiosk#token={device['token']}"
    finally:
        application.extensions["spa"].stop()


# ---- rooms, settings, changes, the pages ----------------------------------------------------------


def test_rooms_added_and_renamed_with_the_therapists_in_them(
    app: Flask, office: Office, people: dict[str, Any], spa_db: Database
) -> None:
    db = app.extensions["spa"].db
    with db.write() as s:
        s.execute(text("UPDATE staff SET room = 'Room 1' WHERE name = 'Anna'"))
    room = office.ok("POST", "rooms", {"name": "Garden"})["room"]
    assert room["name"] == "Garden" and room["active"] is True
    office.ok("PATCH", "rooms/1", {"name": "Lotus", "sort_order": 5})
    office.ok("PATCH", f"rooms/{room['id']}", {"active": False})
    rooms = {r["name"]: r for r in office.ok("GET", "rooms")["rooms"]}
    assert rooms["Lotus"]["sort_order"] == 5 and rooms["Garden"]["active"] is False
    anna = next(s for s in office.ok("GET", "staff")["staff"] if s["name"] == "Anna")
    assert anna["room"] == "Lotus"
    assert audits(spa_db, "office_room_changed")[0]["changes"]["name"] == {"before": "Room 1", "after": "Lotus"}


def test_settings_changed_audited_and_shown_on_the_pages(app: Flask, office: Office, spa_db: Database) -> None:
    settings = office.ok("GET", "settings")["settings"]
    assert settings["largest_note"] == "200.00" and settings["discount_without_manager"] == "10.00"
    week = {d: ["09:00", "20:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    changed = office.ok(
        "PATCH",
        "settings",
        {
            "spa_name": "Oase",
            "spa_address": "Hauptstr. 1\n10115 Berlin",
            "currency": "CHF",
            "opening_hours": week,
            "max_wait_min": None,
            "largest_note": "500.00",
            "discount_without_manager": "15",
        },
    )["settings"]
    assert changed["spa_name"] == "Oase" and changed["largest_note"] == "500.00"
    assert changed["opening_hours"]["monday"] == ["09:00", "20:00"] and changed["opening_hours"]["sunday"] is None
    assert changed["max_wait_min"] is None and changed["discount_without_manager"] == "15.00"
    policy = app.extensions["spa"].spa_settings.policy()
    assert policy.till.largest_note_cents == 50_000 and policy.currency == "CHF"
    entry = audits(spa_db, "office_settings_changed")[-1]
    assert entry["changes"]["spa_name"] == {"before": "Spa", "after": "Oase"}
    assert entry["changes"]["largest_note_cents"] == {"before": 20_000, "after": 50_000}
    # The same values again: nothing changed, nothing audited.
    office.ok("PATCH", "settings", {"spa_name": "Oase"})
    assert len(audits(spa_db, "office_settings_changed")) == 1
    client = app.test_client()
    assert "Oase" in client.get("/").get_data(as_text=True)
    kiosk = client.get("/kiosk").get_data(as_text=True)
    assert "Oase" in kiosk and '"symbol": "CHF"' in kiosk


def test_the_changes_list_says_who_when_and_what(office: Office, people: dict[str, Any]) -> None:
    office.ok("POST", "rooms", {"name": "Garden"})
    office.ok("PATCH", "services/1", {"price": "47.00"})
    office.ok("POST", f"staff/{people['Ben']['id']}/pin", {})
    changes = office.ok("GET", "changes")["changes"]
    assert [c["action"] for c in changes] == ["pin_reset", "service_changed", "room_added"]
    assert {c["by"] for c in changes} == {"Dana"} and all(c["at"].endswith("Z") for c in changes)
    assert changes[1]["detail"]["changes"]["price"] == {"before": "45.00", "after": "47.00"}
    assert len(office.ok("GET", "changes?limit=1")["changes"]) == 1


def test_the_landing_page_and_the_office_page_answer(app: Flask) -> None:
    client = app.test_client()
    landing = client.get("/")
    assert landing.status_code == 200  # it answered 404 (issue 12)
    body = landing.get_data(as_text=True)
    for href in ("/kiosk", "/therapist", "/cashier", "/desk", "/lobby", "/office"):
        assert f'href="{href}"' in body
    office = client.get("/office")
    assert office.status_code == 200 and "js/office.js" in office.get_data(as_text=True)
    assert "default-src 'self'" in office.headers["Content-Security-Policy"]


# ---- what a change ends, on open connections --------------------------------------------------------


@pytest.fixture
def served(app: Flask) -> Iterator[InProcessServer]:
    server = InProcessServer(app).start()
    yield server
    server.stop()


def test_a_revoked_device_and_a_deactivated_person_are_signed_out_at_once(
    served: InProcessServer, office: Office, people: dict[str, Any]
) -> None:
    lobby = served.client(people["lobby-1"]["token"])
    kiosk = served.client(people["kiosk-1"]["token"])
    carla_session = sign_in(office.client, people["Carla"]["id"], "3333")
    carla = served.client(carla_session)
    anna_badge = served.client(people["Anna"]["token"])
    anna_session = served.client(sign_in(office.client, people["Anna"]["id"], "1111"))
    for client in (lobby, kiosk, carla, anna_badge, anna_session):
        assert client.refusal is None and client.emit("queue_snapshot", callback=True)["ok"]

    def told(client: Any) -> dict[str, Any]:
        def signed_out() -> Any:
            return next((m["args"][0] for m in client.get_received() if m["name"] == "signed_out"), None)

        message = wait_until(signed_out, 5, what="signed_out")
        wait_until(lambda: not client.is_connected(), 5, what="the connection to close")
        return dict(message)

    office.ok("POST", f"devices/{people['lobby-1']['id']}/revoke")
    assert told(lobby)["code"] == "forbidden"  # without sending anything: told at once
    office.ok("PATCH", f"staff/{people['Carla']['id']}", {"active": False})
    assert "ended" in told(carla)["message"]
    # A PIN reset ends the PIN sessions; the badge token is still good, its connection stays.
    office.ok("POST", f"staff/{people['Anna']['id']}/pin", {})
    told(anna_session)
    assert anna_badge.is_connected() and anna_badge.emit("queue_snapshot", callback=True)["ok"]
    assert kiosk.is_connected() and kiosk.emit("queue_snapshot", callback=True)["ok"]


def test_skill_changes_reach_the_staff_screens(served: InProcessServer, office: Office, people: dict[str, Any]) -> None:
    ben = served.client(people["Ben"]["token"])
    assert ben.emit("therapist_subscribe", callback=True)["ok"]
    ben.get_received()
    office.ok("PATCH", f"staff/{people['Ben']['id']}", {"skills": [1, 7]})

    def roster() -> Any:
        return next((m["args"][0] for m in ben.get_received() if m["name"] == "roster_updated"), None)

    view = wait_until(roster, 5, what="roster_updated")
    assert next(t for t in view["therapists"] if t["id"] == people["Ben"]["id"])["skills"] == [1, 7]


# ---- the forms, as pure functions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "A", "price": "45.00", "duration_min": 60}, {"name": "A", "price_cents": 4500, "duration_min": 60}),
        ({"name": "A", "price": 0.1, "duration_min": 1}, {"name": "A", "price_cents": 10, "duration_min": 1}),
        (
            {"name": "A", "price": "1", "duration_min": 5, "tax_rate": "19.5", "category": ""},
            {"name": "A", "price_cents": 100, "duration_min": 5, "tax_rate_bp": 1950, "category": None},
        ),
        (
            {"name": "A", "price": "1", "duration_min": 5, "therapists": [3, 1, 3]},
            {"name": "A", "price_cents": 100, "duration_min": 5, "therapists": [1, 3]},
        ),
    ],
)
def test_a_service_form_reads_money_exactly(body: dict[str, Any], expected: dict[str, Any]) -> None:
    from server.web import office_forms

    assert office_forms.service_add(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        {"name": "A", "price": 0.001, "duration_min": 1},
        {"name": "A", "price": True, "duration_min": 1},
        {"name": "A", "price": "1", "duration_min": 1.0},
        {"name": "A\u0000", "price": "1", "duration_min": 1},
        {"name": "A", "price": "1", "duration_min": 1, "therapists": [0]},
        {"name": "A", "price": "1", "duration_min": 1, "therapists": "1,2"},
    ],
)
def test_a_bad_service_form_is_refused(body: dict[str, Any]) -> None:
    from server.domain.errors import CommandError, ErrorCode
    from server.web import office_forms

    with pytest.raises(CommandError) as err:
        office_forms.service_add(body)
    assert err.value.code is ErrorCode.INVALID_PAYLOAD


def test_settings_on_the_wire_are_money_and_percentages() -> None:
    from server.web import office_forms

    stored = office_forms.settings_change(
        {"largest_note": "150.50", "discount_without_manager": "12.5", "language": "de"}
    )
    assert stored == {"largest_note_cents": 15050, "discount_without_manager_bp": 1250, "language": "de"}
    view = office_forms.settings_view(
        {"largest_note_cents": 15050, "discount_without_manager_bp": 1250, "currency": "€"}
    )
    assert view == {"largest_note": "150.50", "discount_without_manager": "12.50", "currency": "€"}
