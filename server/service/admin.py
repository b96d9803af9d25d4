"""Back-office commands: staff, devices, the catalog, and the demo data set."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.wire import ROOM_RE, Limits

from ..db import roster_repo
from ..db.engine import Database
from ..db.models import DEVICE_ROLES, STAFF_ROLES, Device, Room, Service, Staff
from ..domain.actors import StaffRole
from ..domain.money import format_cents
from .tokens import hash_pin, hash_token, new_token, parse_token, pin_matches, token_matches


class AdminError(Exception):
    pass


_PIN = re.compile(rf"^[0-9]{{{Limits.MIN_PIN},{Limits.MAX_PIN}}}$")
# An admin may do everything: their PIN gets 100 times the values of a 4-digit one, which at the
# sign-in throttle's rate is about a year of guessing on average (docs/SECURITY.md).
ADMIN_MIN_PIN = 6

# Name, price (tax included), minutes, tax rate (basis points), category.
DEMO_SERVICES = [
    ("Swedish massage", 4500, 60, 1900, "Massage"),
    ("Deep tissue massage", 5500, 60, 1900, "Massage"),
    ("Aromatherapy", 4000, 45, 1900, "Massage"),
    ("Hot stone massage", 6500, 75, 1900, "Massage"),
    ("Foot reflexology", 2500, 30, 700, "Therapy"),
    ("Facial", 3850, 45, 1900, "Face and body"),
    ("Head and shoulders", 1800, 20, 1900, "Massage"),
]
DEMO_FLOAT_CENTS = 10_000  # the demo till opens with €100 in its drawer
DEMO_STAFF = [
    ("Anna", "therapist", "1111"),
    ("Ben", "therapist", "2222"),
    ("Carla", "cashier", "3333"),
    ("Dana", "admin", "999999"),
    ("Erik", "desk", "4444"),
]
# Ben does no hot stone massage: a customer who wants one waits for Anna.
DEMO_SKILLS_MISSING = {"Ben": {"Hot stone massage"}}
DEMO_ROOMS = ["Room 1", "Room 2", "Room 3"]
DEMO_DEVICES = [
    ("kiosk-1", "kiosk", None),
    ("cashier-1", "cashier", None),
    ("room-1", "room", "Room 1"),
    ("room-2", "room", "Room 2"),
    ("lobby-1", "lobby", None),
]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise AdminError("name must be 1-80 characters")
    return name


def add_staff(db: Database, role: str, name: str, pin: str | None = None) -> dict[str, Any]:
    if role not in STAFF_ROLES:
        raise AdminError(f"role must be one of {', '.join(STAFF_ROLES)}")
    if pin is not None and not _PIN.match(pin):
        raise AdminError(f"PIN must be {Limits.MIN_PIN}-{Limits.MAX_PIN} digits")
    if pin is not None and role == StaffRole.ADMIN.value and len(pin) < ADMIN_MIN_PIN:
        raise AdminError(f"an admin's PIN must be {ADMIN_MIN_PIN}-{Limits.MAX_PIN} digits")
    with db.write() as s:
        staff = Staff(
            name=_name(name),
            role=role,
            token_hash="-",
            active=True,
            created_at=_now(),
            pin_hash=hash_pin(pin) if pin else None,
        )
        s.add(staff)
        s.flush()
        token = new_token("staff", staff.id)
        staff.token_hash = hash_token(token)
        if role == StaffRole.THERAPIST.value:
            # Until the office says otherwise a new therapist does every service on the menu.
            roster_repo.set_skills(s, staff.id, set(roster_repo.active_service_ids(s)))
        return {"id": staff.id, "kind": "staff", "role": role, "name": staff.name, "token": token}


def add_device(db: Database, role: str, name: str) -> dict[str, Any]:
    if role not in DEVICE_ROLES:
        raise AdminError(f"role must be one of {', '.join(DEVICE_ROLES)}")
    try:
        with db.write() as s:
            device = Device(name=_name(name), role=role, token_hash="-", active=True, created_at=_now())
            s.add(device)
            s.flush()
            token = new_token("device", device.id)
            device.token_hash = hash_token(token)
            return {"id": device.id, "kind": "device", "role": role, "name": device.name, "token": token}
    except IntegrityError:
        raise AdminError(f"a device named {name!r} exists already") from None


def add_room(db: Database, name: str) -> dict[str, Any]:
    if not ROOM_RE.fullmatch(name.strip()):
        raise AdminError("a room's name is 1-32 letters, digits, spaces, '.', '#' or '-'")
    try:
        with db.write() as s:
            count = len(roster_repo.rooms(s, active_only=False))
            room = Room(name=name.strip(), active=True, sort_order=count, created_at=_now())
            s.add(room)
            s.flush()
            return {"id": room.id, "name": room.name}
    except IntegrityError:
        raise AdminError(f"a room named {name!r} exists already") from None


def list_rooms(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return [{"id": r.id, "name": r.name, "active": r.active} for r in roster_repo.rooms(s, active_only=False)]


def add_catalog_service(db: Database, name: str, price_cents: int, minutes: int) -> dict[str, Any]:
    from .catalog import add_service

    if not 1 <= minutes <= 600:
        raise AdminError("--minutes must be 1-600")
    try:
        return add_service(db, _name(name), price_cents, minutes, _now())
    except IntegrityError:
        raise AdminError(f"a service named {name!r} exists already") from None


def list_staff(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return [
            {"id": r.id, "role": r.role, "name": r.name, "active": r.active}
            for r in s.scalars(select(Staff).order_by(Staff.id))
        ]


def list_devices(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return [
            {"id": r.id, "role": r.role, "name": r.name, "active": r.active}
            for r in s.scalars(select(Device).order_by(Device.id))
        ]


def list_catalog(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        return [
            {
                "id": r.id,
                "name": r.name,
                "price": format_cents(r.price_cents),
                "minutes": r.duration_min,
                "active": r.active,
            }
            for r in s.scalars(select(Service).order_by(Service.id))
        ]


def load_demo(db: Database, keep: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Create the demo catalog, staff and devices where missing, and issue tokens for them.

    Tokens are kept only as hashes, so a token can only be given again if the caller still has
    it: ``keep`` (name → token, from the last run's tokens file) keeps each one whose hash is
    still the stored one, so screens opened by an earlier `make run` stay signed in. Any other
    is issued anew, and the old one stops working.
    """
    keep = keep or {}

    def token_for(kind: str, name: str, row_id: int, stored_hash: str) -> str:
        kept = keep.get(name)
        if kept is not None and parse_token(kept) == (kind, row_id) and token_matches(kept, stored_hash):
            return kept
        return new_token(kind, row_id)

    now = _now()
    tokens: list[dict[str, Any]] = []
    with db.write() as s:
        have = set(s.scalars(select(Service.name)))
        for order, (name, price, minutes, rate, category) in enumerate(DEMO_SERVICES):
            if name not in have:
                s.add(
                    Service(
                        name=name,
                        price_cents=price,
                        duration_min=minutes,
                        active=True,
                        created_at=now,
                        tax_rate_bp=rate,
                        category=category,
                        sort_order=order,
                    )
                )
        have_rooms = set(s.scalars(select(Room.name)))
        for order, name in enumerate(DEMO_ROOMS):
            if name not in have_rooms:
                s.add(Room(name=name, active=True, sort_order=order, created_at=now))
        s.flush()
        services = {svc.name: svc.id for svc in s.scalars(select(Service))}
        rooms = {room.name: room.id for room in s.scalars(select(Room))}
        for name, role, pin in DEMO_STAFF:
            staff = s.scalars(select(Staff).where(Staff.name == name, Staff.role == role)).first()
            if staff is None:
                staff = Staff(name=name, role=role, token_hash="-", active=True, created_at=now)
                s.add(staff)
                s.flush()
            if staff.pin_hash is None or not pin_matches(pin, staff.pin_hash):
                staff.pin_hash = hash_pin(pin)
            token = token_for("staff", name, staff.id, staff.token_hash)
            staff.token_hash = hash_token(token)
            if role == StaffRole.THERAPIST.value:
                staff.on_shift = True
                missing = DEMO_SKILLS_MISSING.get(name, set())
                roster_repo.set_skills(s, staff.id, {sid for svc, sid in services.items() if svc not in missing})
            tokens.append({"kind": "staff", "role": role, "name": name, "id": staff.id, "pin": pin, "token": token})
        for name, role, room in DEMO_DEVICES:
            device = s.scalars(select(Device).where(Device.name == name)).first()
            if device is None:
                device = Device(name=name, role=role, token_hash="-", active=True, created_at=now)
                s.add(device)
                s.flush()
            device.room_id = rooms[room] if room else None
            token = token_for("device", name, device.id, device.token_hash)
            device.token_hash = hash_token(token)
            tokens.append({"kind": "device", "role": role, "name": name, "id": device.id, "token": token})
            if role == "cashier":
                _open_demo_till(s, device.id, now)
    return tokens


def _open_demo_till(s: Any, device_id: int, now: datetime) -> None:
    """The demo till is open for business, as the spa would leave it in the morning."""
    from ..db.models import TillSession

    open_now = s.scalars(
        select(TillSession).where(TillSession.device_id == device_id, TillSession.closed_at.is_(None))
    ).first()
    if open_now is None:
        s.add(TillSession(device_id=device_id, opened_at=now, opened_by="system:demo", float_cents=DEMO_FLOAT_CENTS))
