"""Who works and where: therapists signing on and off shift, into a room, and the roster the front
desk and the estimates read. Setting a state twice is harmless, so these commands need no
idempotency key to be safe to repeat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db import roster_repo
from ..db.engine import Database
from ..db.models import Staff
from ..domain.actors import Capability, Principal, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.status import WITH_THERAPIST
from . import commands
from .queue import QueueService


class RosterService:
    def __init__(self, db: Database, queue: QueueService, changed: Callable[[dict[str, Any]], None]) -> None:
        self.db = db
        self.queue = queue
        self.changed = changed  # the roster as it now is: to the broadcaster and the staff screens

    def shift(self, actor: Principal, cmd: commands.Shift, on: bool) -> dict[str, Any]:
        now = self.queue.clock()
        with self.db.write() as s:
            staff_id = self._whose(s, actor, cmd.staff_id, cmd.therapist_token)
            changed = roster_repo.set_shift(s, staff_id, on, now)
            if changed:
                repo.add_audit(
                    s,
                    action="shift_started" if on else "shift_ended",
                    actor=actor.key,
                    created_at=now,
                    staff_id=staff_id,
                    device_id=actor.device_id,
                )
        view = self.view()
        if changed:
            self.changed(view)
        return {"staff_id": staff_id, "on_shift": on, "changed": changed, **view}

    def choose_room(self, actor: Principal, cmd: commands.ChooseRoom) -> dict[str, Any]:
        now = self.queue.clock()
        with self.db.write() as s:
            staff_id = self._whose(s, actor, None, cmd.therapist_token)
            room = self.queue.room_for(s, actor, None, cmd.room) if cmd.room is not None else None
            row = s.get(Staff, staff_id)
            assert row is not None
            changed = row.room != room
            row.room = room
            if changed:
                repo.add_audit(
                    s, action="room_chosen", actor=actor.key, created_at=now, staff_id=staff_id, detail={"room": room}
                )
        view = self.view()
        if changed:
            self.changed(view)
        return {"staff_id": staff_id, "room": room, **view}

    def view(self) -> dict[str, Any]:
        """Every active therapist (on shift or not, their room and skills, whom they have now), and
        the rooms."""
        with self.db.read() as s:
            return roster_view(s)

    def _whose(self, s: Session, actor: Principal, staff_id: int | None, token: str | None) -> int:
        """The therapist a shift or room command is for: named by the desk, else the caller."""
        if staff_id is not None:
            if not actor.can(Capability.FRONT_DESK) and actor.staff_id != staff_id:
                raise CommandError(ErrorCode.FORBIDDEN, "only the front desk signs another therapist on or off")
            row = s.get(Staff, staff_id)
            if row is None or not row.active or row.role != StaffRole.THERAPIST.value:
                raise CommandError(ErrorCode.NOT_FOUND, f"no active therapist {staff_id}")
            return staff_id
        therapist = self.queue.acting_staff(s, actor, token, StaffRole.THERAPIST)
        if therapist is None or therapist.role is not StaffRole.THERAPIST:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, "staff_id: which therapist (the caller is not one)")
        return therapist.id


def roster_view(s: Session) -> dict[str, Any]:
    team = roster_repo.therapists(s)
    skills = roster_repo.skills(s, [t.id for t in team])
    busy: dict[int, list[str]] = {}
    for txn in repo.in_statuses(s, list(WITH_THERAPIST)):
        if txn.therapist_id is not None:
            busy.setdefault(txn.therapist_id, []).append(txn.code)
    return {
        "therapists": [
            {
                "id": t.id,
                "name": t.name,
                "on_shift": t.on_shift,
                "room": t.room,
                "skills": sorted(skills[t.id]),
                "with": busy.get(t.id, []),
            }
            for t in team
        ],
        "rooms": [{"id": r.id, "name": r.name} for r in roster_repo.rooms(s)],
    }
