"""Queries on who works and where: therapists on shift and their skills, rooms, observed
service durations, and the settings changed while running."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.orm import Session

from ..domain.actors import StaffRole
from .driver import mariadb_cursor
from .models import Device, Room, Service, Setting, Staff, StaffSkill


def therapists(session: Session, *, on_shift_only: bool = False) -> list[Staff]:
    query = select(Staff).where(Staff.role == StaffRole.THERAPIST.value, Staff.active.is_(True)).order_by(Staff.name)
    if on_shift_only:
        query = query.where(Staff.on_shift.is_(True))
    return list(session.scalars(query))


def skills(session: Session, staff_ids: list[int]) -> dict[int, frozenset[int]]:
    found: dict[int, set[int]] = {i: set() for i in staff_ids}
    if staff_ids:
        rows = session.execute(
            select(StaffSkill.staff_id, StaffSkill.service_id).where(StaffSkill.staff_id.in_(staff_ids))
        )
        for staff_id, service_id in rows:
            found[staff_id].add(service_id)
    return {i: frozenset(v) for i, v in found.items()}


def skills_against_active(session: Session, staff_id: int) -> tuple[frozenset[int], frozenset[int]]:
    """(the services a staff member can do, the active services), in one query: a claim asks
    both on its hot path."""
    if mariadb_cursor(session) is not None:
        facts = _claim_facts(session, staff_id)
        return facts[1], facts[2]
    rows = session.execute(
        select(Service.id, Service.active, StaffSkill.staff_id)
        .select_from(Service)
        .outerjoin(StaffSkill, and_(StaffSkill.service_id == Service.id, StaffSkill.staff_id == staff_id))
    )
    skills: set[int] = set()
    active: set[int] = set()
    for service_id, is_active, skilled in rows:
        if skilled is not None:
            skills.add(service_id)
        if is_active:
            active.add(service_id)
    return frozenset(skills), frozenset(active)


def set_skills(session: Session, staff_id: int, service_ids: set[int]) -> None:
    session.execute(delete(StaffSkill).where(StaffSkill.staff_id == staff_id))
    if service_ids:
        session.execute(insert(StaffSkill), [{"staff_id": staff_id, "service_id": s} for s in sorted(service_ids)])


def active_service_ids(session: Session) -> frozenset[int]:
    return frozenset(session.scalars(select(Service.id).where(Service.active.is_(True))))


def averages(session: Session) -> dict[int, float]:
    """Expected minutes of each service (`estimates.expected_by_service` works them out)."""
    from ..domain.estimates import expected_by_service

    rows = session.execute(select(Service.id, Service.duration_min, Service.avg_minutes, Service.avg_samples))
    return expected_by_service([(i, minutes, avg, samples) for i, minutes, avg, samples in rows])


def lock_services(session: Session, ids: list[int]) -> list[Service]:
    query = select(Service).where(Service.id.in_(ids)).order_by(Service.id)
    if session.get_bind().dialect.name in ("mysql", "mariadb"):
        query = query.with_for_update()
    return list(session.scalars(query))


def room_and_shift(session: Session, staff_id: int) -> tuple[str | None, bool] | None:
    """A staff member's room and whether they are on shift; read once per database transaction
    (a claim asks both, and the claim is the hot path)."""
    if mariadb_cursor(session) is not None:
        return _claim_facts(session, staff_id)[0]
    cache: dict[int, tuple[str | None, bool] | None] = session.info.setdefault("room_and_shift", {})
    if staff_id not in cache:
        row = session.execute(select(Staff.room, Staff.on_shift).where(Staff.id == staff_id)).first()
        cache[staff_id] = (row.room, bool(row.on_shift)) if row is not None else None
    return cache[staff_id]


def set_shift(session: Session, staff_id: int, on: bool, now: datetime) -> bool:
    """Put a therapist on or off shift; False if nothing changed (already so, or not a therapist)."""
    result = session.execute(
        update(Staff)
        .where(Staff.id == staff_id, Staff.role == StaffRole.THERAPIST.value, Staff.on_shift.is_not(on))
        .values(on_shift=on, shift_changed_at=now)
    )
    session.info.get("room_and_shift", {}).pop(staff_id, None)
    session.info.get(_FACTS, {}).pop(staff_id, None)
    return bool(result.rowcount)


_FACTS = "claim_facts"
# A claim's three questions about its therapist in one round trip: their room and shift, their
# skills, the active services. Rows tagged by what they answer (UNION ALL keeps one result set).
_FACTS_SQL = (
    "SELECT 'staff', room, on_shift FROM staff WHERE id = %s "
    "UNION ALL SELECT 'skill', service_id, NULL FROM staff_skills WHERE staff_id = %s "
    "UNION ALL SELECT 'active', id, NULL FROM services WHERE active"
)
Facts = tuple[tuple[str | None, bool] | None, frozenset[int], frozenset[int]]


def _claim_facts(session: Session, staff_id: int) -> Facts:
    """On MariaDB: (room and shift or None, skills, active services) of a staff member, read once
    per database transaction with the driver's own SQL (server/db/driver.py)."""
    cache: dict[int, Facts] = session.info.setdefault(_FACTS, {})
    if staff_id not in cache:
        cursor = mariadb_cursor(session)
        cursor.execute(_FACTS_SQL, (staff_id, staff_id))
        room: tuple[str | None, bool] | None = None
        skills: set[int] = set()
        active: set[int] = set()
        for tag, value, on_shift in cursor.fetchall():
            if tag == "staff":
                room = (value, bool(int(on_shift)))
            elif tag == "skill":
                skills.add(int(value))
            else:
                active.add(int(value))
        cache[staff_id] = (room, frozenset(skills), frozenset(active))
    return cache[staff_id]


def rooms(session: Session, *, active_only: bool = True) -> list[Room]:
    query = select(Room).order_by(Room.sort_order, Room.name)
    if active_only:
        query = query.where(Room.active.is_(True))
    return list(session.scalars(query))


def room_named(session: Session, name: str) -> Room | None:
    return session.scalars(select(Room).where(Room.name == name)).first()


def device_room(session: Session, device_id: int) -> str | None:
    """A room box's room, when one is set for it."""
    row = session.execute(
        select(Room.name).join(Device, Device.room_id == Room.id).where(Device.id == device_id)
    ).first()
    return row[0] if row is not None else None


def settings(session: Session) -> dict[str, Any]:
    return {key: json.loads(value) for key, value in session.execute(select(Setting.key, Setting.value))}


def put_setting(session: Session, key: str, value: Any, now: datetime, by: str) -> None:
    encoded = json.dumps(value, sort_keys=True)
    existing = session.get(Setting, key)
    if existing is None:
        session.add(Setting(key=key, value=encoded, updated_at=now, updated_by=by))
    else:
        existing.value, existing.updated_at, existing.updated_by = encoded, now, by
