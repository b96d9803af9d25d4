"""Desk sign-in: a staff badge scanned at a till or a room box signs that person in there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.models import Device, Staff
from ..db.queue_repo import add_audit
from ..domain.actors import DeviceRole, Principal, PrincipalKind, StaffRole
from ..domain.errors import CommandError, ErrorCode
from .principals import lookup_token

# Which staff may sign in at which kind of desk.
DESK_ROLES: dict[DeviceRole, tuple[StaffRole, ...]] = {
    DeviceRole.CASHIER: (StaffRole.CASHIER, StaffRole.DESK, StaffRole.ADMIN),
    DeviceRole.ROOM: (StaffRole.THERAPIST, StaffRole.ADMIN),
}


def sign_in(db: Database, device: Principal, staff_token: str, now: datetime) -> dict[str, Any]:
    allowed = DESK_ROLES.get(DeviceRole(device.role)) if device.is_device else None
    if allowed is None:
        raise CommandError(ErrorCode.FORBIDDEN, "only a till or a room box has a desk to sign in at")
    with db.write() as s:
        staff = lookup_token(s, staff_token, now)
        if staff is None or staff.kind is not PrincipalKind.STAFF or staff.role not in allowed:
            raise CommandError(ErrorCode.FORBIDDEN, f"not a valid {' or '.join(r.value for r in allowed)} badge")
        row = s.get(Device, device.id)
        assert row is not None
        row.signed_in_staff_id = staff.id
        add_audit(s, action="desk_signed_in", actor=device.key, created_at=now, staff_id=staff.id, device_id=device.id)
        return {"staff": {"id": staff.id, "name": staff.name, "role": staff.role.value}}


def sign_out(db: Database, device: Principal, now: datetime) -> dict[str, Any]:
    with db.write() as s:
        row = s.get(Device, device.id)
        if row is None or not device.is_device:
            raise CommandError(ErrorCode.FORBIDDEN, "only a device signs out its desk")
        was = row.signed_in_staff_id
        row.signed_in_staff_id = None
        if was is not None:
            add_audit(s, action="desk_signed_out", actor=device.key, created_at=now, staff_id=was, device_id=device.id)
        return {"signed_out": was is not None}


def signed_in_at(s: Session, device: Principal) -> Principal | None:
    """The staff member signed in at this device, if any (and still active)."""
    row = s.get(Device, device.id)
    if row is None or row.signed_in_staff_id is None:
        return None
    staff = s.get(Staff, row.signed_in_staff_id)
    if staff is None or not staff.active:
        return None
    return Principal(PrincipalKind.STAFF, staff.id, StaffRole(staff.role), staff.name)
