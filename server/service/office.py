"""The back office: the catalog, the staff, the devices, the rooms and the settings, changed by an
admin while the spa runs. Every change is one database transaction with its audit entry (who,
when, what it was and what it became; never a PIN or a token).

What a change ends is ended at once: a deactivated staff member's or a revoked device's open
connections are told `signed_out` and closed (`ended` callback), their PIN sessions deleted; the
token cache forgets within its two seconds anyway.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db import roster_repo
from ..db.engine import Database
from ..db.models import AuditEntry, Device, Room, Service, Staff, StaffSession, StaffSkill
from ..domain.actors import DeviceRole, Principal, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.money import format_cents
from .spa_settings import CHECKS, SpaSettings
from .tokens import hash_pin, hash_token, new_token
from .views import iso

logger = logging.getLogger(__name__)

# The page each kind of device opens (its token in the #fragment).
DEVICE_PAGES = {
    DeviceRole.KIOSK.value: "/kiosk",
    DeviceRole.CASHIER.value: "/cashier",
    DeviceRole.ROOM.value: "/therapist",
    DeviceRole.LOBBY.value: "/lobby",
}
ADMIN_MIN_PIN = 6  # as server/service/admin.py: an admin's PIN has 100 times a 4-digit one's values


def _conflict(what: str) -> CommandError:
    return CommandError(ErrorCode.INVALID_STATE, what)


class OfficeService:
    def __init__(
        self,
        db: Database,
        settings: SpaSettings,
        clock: Callable[[], datetime],
        *,
        ended: Callable[[str], None] = lambda key: None,
        roster_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self._ended = ended  # a principal's key ('device:3', 'staff:2'): close its connections now
        self._roster_changed = roster_changed  # skills or therapists changed: estimates and screens

    def ended(self, key: str) -> None:
        """After the commit: a failure here must not turn a change that was made into an error
        (the connections end at their next event anyway, the roster at the next refresh)."""
        try:
            self._ended(key)
        except Exception:  # noqa: BLE001 - logged; the change stands
            logger.warning("could not end the open connections of %s", key, exc_info=True)

    def roster_changed(self) -> None:
        try:
            self._roster_changed()
        except Exception:  # noqa: BLE001 - logged; the broadcaster refreshes the roster by itself
            logger.warning("could not announce the roster", exc_info=True)

    # ---- the catalog ------------------------------------------------------------------------------

    def services(self) -> list[dict[str, Any]]:
        with self.db.read() as s:
            rows = list(s.scalars(select(Service).order_by(Service.sort_order, Service.name)))
            who = _doers(s)
            return [_service_view(svc, who.get(svc.id, [])) for svc in rows]

    def add_service(self, admin: Principal, form: Mapping[str, Any]) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            count = s.scalar(select(func.count()).select_from(Service)) or 0
            svc = Service(
                name=form["name"],
                price_cents=form["price_cents"],
                duration_min=form["duration_min"],
                tax_rate_bp=form.get("tax_rate_bp", 0),
                category=form.get("category"),
                sort_order=form.get("sort_order", count),
                active=form.get("active", True),
                created_at=now,
            )
            s.add(svc)
            s.flush()
            # Every active therapist does a new service until the office says otherwise.
            doers = form.get("therapists")
            if doers is None:
                doers = [t.id for t in roster_repo.therapists(s)]
            _set_doers(s, svc.id, doers)
            view = _service_view(svc, sorted(doers))
            self._audit(s, admin, now, "office_service_added", {"service": svc.id, "after": _loggable(view)})
            return view

        result = self._write(work, f"a service named {form['name']!r} exists already")
        self.roster_changed()
        return result

    def change_service(self, admin: Principal, service_id: int, form: Mapping[str, Any]) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            svc = s.get(Service, service_id)
            if svc is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no service {service_id}")
            before = _service_view(svc, _doers(s).get(svc.id, []))
            for key in ("name", "price_cents", "duration_min", "tax_rate_bp", "category", "sort_order", "active"):
                if key in form:
                    setattr(svc, key, form[key])
            if "therapists" in form:
                _set_doers(s, svc.id, form["therapists"])
            s.flush()
            after = _service_view(svc, _doers(s).get(svc.id, []))
            self._audit(s, admin, now, "office_service_changed", _diff("service", svc.id, before, after))
            return after

        result = self._write(work, f"a service named {form.get('name')!r} exists already")
        self.roster_changed()
        return result

    # ---- staff ------------------------------------------------------------------------------------

    def staff(self) -> list[dict[str, Any]]:
        with self.db.read() as s:
            rows = list(s.scalars(select(Staff).order_by(Staff.active.desc(), Staff.name)))
            skills = roster_repo.skills(s, [r.id for r in rows])
            return [_staff_view(r, skills[r.id]) for r in rows]

    def add_staff(self, admin: Principal, form: Mapping[str, Any]) -> dict[str, Any]:
        role = form["role"]
        pin = form.get("pin") or _new_pin(role)
        _check_pin(role, pin)

        def work(s: Session, now: datetime) -> dict[str, Any]:
            staff = Staff(name=form["name"], role=role, token_hash="-", active=True, created_at=now)
            staff.pin_hash = hash_pin(pin)
            s.add(staff)
            s.flush()
            staff.token_hash = hash_token(new_token("staff", staff.id))  # badges are printed apart
            skills: set[int] = set()
            if role == StaffRole.THERAPIST.value:
                wanted = form.get("skills")
                skills = set(wanted) if wanted is not None else set(roster_repo.active_service_ids(s))
                _check_services(s, skills)
                roster_repo.set_skills(s, staff.id, skills)
            view = _staff_view(staff, frozenset(skills))
            self._audit(s, admin, now, "office_staff_added", {"staff": staff.id, "after": _loggable(view)})
            return {**view, "pin": pin}  # shown once, to hand over

        result = self._write(work, "")
        self.roster_changed()
        return result

    def change_staff(self, admin: Principal, staff_id: int, form: Mapping[str, Any]) -> dict[str, Any]:
        """Name, role, active, skills. What the change ends (a deactivation, another role) ends
        now: PIN sessions, the shift, their open screens. Promoted to admin, they get a new PIN of
        an admin's length (the old one may be 4 digits, and a hash cannot tell): shown once."""
        ended = False
        new_pin: str | None = None

        def work(s: Session, now: datetime) -> dict[str, Any]:
            nonlocal ended, new_pin
            staff = s.get(Staff, staff_id)
            if staff is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no staff member {staff_id}")
            before = _staff_view(staff, roster_repo.skills(s, [staff.id])[staff.id])
            if staff.id == admin.staff_id and (
                form.get("active", staff.active) is not staff.active or form.get("role", staff.role) != staff.role
            ):
                raise _conflict("you cannot switch yourself off or change your own role here")
            for key in ("name", "role", "active"):
                if key in form:
                    setattr(staff, key, form[key])
            role_changed = staff.role != before["role"]
            if before["role"] == StaffRole.ADMIN.value and before["active"] and not _is_admin(staff):
                others = s.scalar(
                    select(func.count())
                    .select_from(Staff)
                    .where(Staff.role == StaffRole.ADMIN.value, Staff.active.is_(True), Staff.id != staff.id)
                )
                if not others:
                    raise _conflict("the spa needs one active admin at least")
            if role_changed and staff.role == StaffRole.ADMIN.value:
                new_pin = form.get("pin") or _new_pin(staff.role)
                _check_pin(staff.role, new_pin)
                staff.pin_hash = hash_pin(new_pin)
            if "skills" in form:
                _check_services(s, set(form["skills"]))
                roster_repo.set_skills(s, staff.id, set(form["skills"]))
            elif role_changed and staff.role == StaffRole.THERAPIST.value:
                roster_repo.set_skills(s, staff.id, set(roster_repo.active_service_ids(s)))
            if not staff.active or role_changed:
                # Whatever they could do ends now: PIN sessions, shift, their open screens (their
                # badge token stops by itself while they are inactive, and acts in the new role).
                s.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id))
                staff.on_shift = False
                ended = True
            s.flush()
            after = _staff_view(staff, roster_repo.skills(s, [staff.id])[staff.id])
            self._audit(s, admin, now, "office_staff_changed", _diff("staff", staff.id, before, after))
            return after if new_pin is None else {**after, "pin": new_pin}

        result = self._write(work, "")
        if ended:
            self.ended(f"staff:{staff_id}")
        self.roster_changed()
        return result

    def reset_pin(self, admin: Principal, staff_id: int, pin: str | None) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            staff = s.get(Staff, staff_id)
            if staff is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no staff member {staff_id}")
            new = pin or _new_pin(staff.role)
            _check_pin(staff.role, new)
            staff.pin_hash = hash_pin(new)
            # A reset PIN ends the sign-ins made with the old one.
            s.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id))
            self._audit(s, admin, now, "office_pin_reset", {"staff": staff.id})
            return {"id": staff.id, "name": staff.name, "pin": new}

        result = self._write(work, "")
        self.ended(f"staff:{staff_id}")
        return result

    # ---- devices ----------------------------------------------------------------------------------

    def devices(self) -> list[dict[str, Any]]:
        with self.db.read() as s:
            rooms = {r.id: r.name for r in roster_repo.rooms(s, active_only=False)}
            return [_device_view(d, rooms) for d in s.scalars(select(Device).order_by(Device.name))]

    def add_device(self, admin: Principal, form: Mapping[str, Any]) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            device = Device(name=form["name"], role=form["role"], token_hash="-", active=True, created_at=now)
            device.room_id = _room_id(s, form.get("room"))
            s.add(device)
            s.flush()
            token = new_token("device", device.id)
            device.token_hash = hash_token(token)
            view = _device_view(device, _room_names(s))
            self._audit(s, admin, now, "office_device_added", {"device": device.id, "after": view})
            return {**view, "token": token}

        return self._write(work, f"a device named {form['name']!r} exists already")

    def change_device(self, admin: Principal, device_id: int, form: Mapping[str, Any]) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            device = _device(s, device_id)
            before = _device_view(device, _room_names(s))
            if "name" in form:
                device.name = form["name"]
            if "room" in form:
                device.room_id = _room_id(s, form["room"])
            s.flush()
            after = _device_view(device, _room_names(s))
            self._audit(s, admin, now, "office_device_changed", _diff("device", device.id, before, after))
            return after

        return self._write(work, f"a device named {form.get('name')!r} exists already")

    def revoke_device(self, admin: Principal, device_id: int) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            device = _device(s, device_id)
            device.active = False
            device.token_hash = hash_token(new_token("device", device.id))  # the old token matches nothing
            device.signed_in_staff_id = None
            self._audit(s, admin, now, "office_device_revoked", {"device": device.id})
            return _device_view(device, _room_names(s))

        result = self._write(work, "")
        self.ended(f"device:{device_id}")
        return result

    def reissue_device(self, admin: Principal, device_id: int) -> dict[str, Any]:
        """A new token (the old one stops at once): for a lost or replaced device."""

        def work(s: Session, now: datetime) -> dict[str, Any]:
            device = _device(s, device_id)
            token = new_token("device", device.id)
            device.token_hash, device.active = hash_token(token), True
            self._audit(s, admin, now, "office_device_reissued", {"device": device.id})
            return {**_device_view(device, _room_names(s)), "token": token}

        result = self._write(work, "")
        self.ended(f"device:{device_id}")
        return result

    # ---- rooms ------------------------------------------------------------------------------------

    def rooms(self) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [_room_view(r) for r in roster_repo.rooms(s, active_only=False)]

    def add_room(self, admin: Principal, form: Mapping[str, Any]) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            count = s.scalar(select(func.count()).select_from(Room)) or 0
            room = Room(name=form["name"], active=form.get("active", True), sort_order=count, created_at=now)
            s.add(room)
            s.flush()
            view = _room_view(room)
            self._audit(s, admin, now, "office_room_added", {"room": room.id, "after": view})
            return view

        result = self._write(work, f"a room named {form['name']!r} exists already")
        self.roster_changed()
        return result

    def change_room(self, admin: Principal, room_id: int, form: Mapping[str, Any]) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> dict[str, Any]:
            room = s.get(Room, room_id)
            if room is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no room {room_id}")
            before = _room_view(room)
            for key in ("name", "active", "sort_order"):
                if key in form:
                    setattr(room, key, form[key])
            if before["name"] != room.name:
                # Therapists signed in to it follow the new name (their calls send customers there).
                for staff in s.scalars(select(Staff).where(Staff.room == before["name"])):
                    staff.room = room.name
            s.flush()
            after = _room_view(room)
            self._audit(s, admin, now, "office_room_changed", _diff("room", room.id, before, after))
            return after

        result = self._write(work, f"a room named {form.get('name')!r} exists already")
        self.roster_changed()
        return result

    # ---- settings ---------------------------------------------------------------------------------

    def settings_view(self) -> dict[str, Any]:
        return self.settings.values()

    def change_settings(self, admin: Principal, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Some settings at once (all or none), stored with their audit entry in one transaction."""
        unknown = set(changes) - set(CHECKS)
        if unknown:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"unknown setting {sorted(unknown)[0]!r}")
        checked = {key: CHECKS[key](value, key) for key, value in changes.items()}
        before = self.settings.values()
        changed = {k: {"before": before.get(k), "after": v} for k, v in checked.items() if before.get(k) != v}
        if changed:
            now = self.clock()
            with self.db.write() as s:
                for key in changed:
                    roster_repo.put_setting(s, key, checked[key], now, admin.key)
                self._audit(s, admin, now, "office_settings_changed", {"changes": changed})
            self.settings.forget()
        return self.settings.values()

    # ---- the audit trail --------------------------------------------------------------------------

    def changes(self, limit: int = 100) -> list[dict[str, Any]]:
        """The office's latest changes, newest first."""
        with self.db.read() as s:
            rows = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.startswith("office_"))
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
            names = {st.id: st.name for st in s.scalars(select(Staff))}
            return [
                {
                    "id": a.id,
                    "at": iso(a.created_at),
                    "action": a.action.removeprefix("office_"),
                    "by": names.get(a.staff_id or 0, a.actor),
                    "detail": json.loads(a.detail) if a.detail else {},
                }
                for a in rows
            ]

    # ---- shared -----------------------------------------------------------------------------------

    def _write(self, work: Callable[[Session, datetime], dict[str, Any]], duplicate: str) -> dict[str, Any]:
        now = self.clock()
        try:
            with self.db.write() as s:
                return work(s, now)
        except IntegrityError:
            raise CommandError(ErrorCode.INVALID_STATE, duplicate or "that clashes with what is there") from None

    @staticmethod
    def _audit(s: Session, admin: Principal, now: datetime, action: str, detail: dict[str, Any]) -> None:
        repo.add_audit(s, action=action, actor=admin.key, created_at=now, staff_id=admin.staff_id, detail=detail)


# ---- views and checks -------------------------------------------------------------------------------


def _service_view(svc: Service, doers: list[int]) -> dict[str, Any]:
    return {
        "id": svc.id,
        "name": svc.name,
        "price": format_cents(svc.price_cents),
        "duration_min": svc.duration_min,
        "tax_rate": format_cents(svc.tax_rate_bp or 0),
        "category": svc.category,
        "sort_order": svc.sort_order,
        "active": svc.active,
        "therapists": doers,
    }


def _staff_view(staff: Staff, skills: frozenset[int]) -> dict[str, Any]:
    return {
        "id": staff.id,
        "name": staff.name,
        "role": staff.role,
        "active": staff.active,
        "on_shift": bool(staff.on_shift),
        "room": staff.room,
        "has_pin": staff.pin_hash is not None,
        "skills": sorted(skills),
    }


def _device_view(device: Device, rooms: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": device.id,
        "name": device.name,
        "role": device.role,
        "active": device.active,
        "room": rooms.get(device.room_id) if device.room_id else None,
        "page": DEVICE_PAGES.get(device.role, "/"),
        "last_heartbeat_at": iso(device.last_heartbeat_at),
    }


def _room_view(room: Room) -> dict[str, Any]:
    return {"id": room.id, "name": room.name, "active": room.active, "sort_order": room.sort_order}


def _loggable(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("pin", "token")}


def _diff(kind: str, row_id: int, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changed = {k: {"before": before[k], "after": after[k]} for k in after if before.get(k) != after[k]}
    return {kind: row_id, "changes": changed}


def _doers(s: Session) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    rows = s.execute(
        select(StaffSkill.service_id, StaffSkill.staff_id)
        .join(Staff, Staff.id == StaffSkill.staff_id)
        .where(Staff.active.is_(True))
        .order_by(StaffSkill.staff_id)
    )
    for service_id, staff_id in rows:
        found.setdefault(service_id, []).append(staff_id)
    return found


def _set_doers(s: Session, service_id: int, staff_ids: list[int]) -> None:
    therapists = {t.id for t in roster_repo.therapists(s)}
    unknown = set(staff_ids) - therapists
    if unknown:
        raise CommandError(ErrorCode.NOT_FOUND, f"no active therapist {sorted(unknown)[0]}")
    s.execute(delete(StaffSkill).where(StaffSkill.service_id == service_id))
    if staff_ids:
        s.execute(insert(StaffSkill), [{"staff_id": t, "service_id": service_id} for t in sorted(set(staff_ids))])


def _check_services(s: Session, ids: set[int]) -> None:
    known = set(s.scalars(select(Service.id).where(Service.id.in_(ids)))) if ids else set()
    if ids - known:
        raise CommandError(ErrorCode.NOT_FOUND, f"no service {sorted(ids - known)[0]}")


def _device(s: Session, device_id: int) -> Device:
    device = s.get(Device, device_id)
    if device is None:
        raise CommandError(ErrorCode.NOT_FOUND, f"no device {device_id}")
    return device


def _room_names(s: Session) -> dict[int, str]:
    return {r.id: r.name for r in roster_repo.rooms(s, active_only=False)}


def _room_id(s: Session, name: str | None) -> int | None:
    if name is None:
        return None
    room = roster_repo.room_named(s, name)
    if room is None:
        raise CommandError(ErrorCode.NOT_FOUND, f"no room {name!r}")
    return room.id


def _is_admin(staff: Staff) -> bool:
    return staff.active and staff.role == StaffRole.ADMIN.value


def _new_pin(role: str) -> str:
    digits = ADMIN_MIN_PIN if role == StaffRole.ADMIN.value else 4
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def _check_pin(role: str, pin: str) -> None:
    if role == StaffRole.ADMIN.value and len(pin) < ADMIN_MIN_PIN:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"an admin's PIN is {ADMIN_MIN_PIN} digits or more")
