"""The front desk's corrections, and a therapist's on their own customer: no-show and recall, give
back, transfer, pick out of order, remove an item, undo a start or a finish, priority. Each is a
recipe in the queue's unit of work (idempotency, audit, version, broadcast), the rule in the
domain's `transition`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db.models import Staff, Transaction
from ..domain.actors import Capability, Principal, PrincipalKind, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.estimates import can_serve
from ..domain.moves import Actor, Move
from ..domain.status import TxnStatus
from . import billing, commands
from .queue import QueueService
from .unit_of_work import Outcome


class FrontDesk:
    def __init__(self, queue: QueueService) -> None:
        self.queue = queue

    # ---- moves on one transaction ---------------------------------------------------------------

    def no_show(self, actor: Principal, cmd: commands.DeskAction) -> dict[str, Any]:
        return self._step("front_desk_no_show", actor, cmd, Move.NO_SHOW, "no_show")

    def recall(self, actor: Principal, cmd: commands.DeskAction) -> dict[str, Any]:
        return self._step("front_desk_recall", actor, cmd, Move.RECALL, "recalled")

    def give_back(self, actor: Principal, cmd: commands.DeskAction) -> dict[str, Any]:
        return self._step("front_desk_give_back", actor, cmd, Move.GIVE_BACK, "released")

    def undo_start(self, actor: Principal, cmd: commands.DeskAction) -> dict[str, Any]:
        return self._step("front_desk_undo_start", actor, cmd, Move.UNDO_START, "start_undone")

    def undo_finish(self, actor: Principal, cmd: commands.DeskAction) -> dict[str, Any]:
        return self._step("front_desk_undo_finish", actor, cmd, Move.UNDO_FINISH, "finish_undone")

    def transfer(self, actor: Principal, cmd: commands.Transfer) -> dict[str, Any]:
        q = self.queue

        def work(s: Session, now: datetime) -> Outcome:
            txn = q.locked(s, cmd.transaction_id)
            target = therapist_by_id(s, cmd.therapist_id)
            was = txn.therapist_id
            room = q.room_for(s, actor, target, None) if target is not None else None
            before = q.transition(txn, Move.TRANSFER, self._actor(s, actor, None), now, target=target, room=room)
            q.on_shift(s, target, now)
            assert target is not None
            names = {target.id: target.name}
            return Outcome({}, txn, "transferred", {"from": was, "to": target.id, "room": room}, before, names)

        return q.uow.run("front_desk_transfer", actor, cmd, work, full_result=True)[0]

    def assign(self, actor: Principal, cmd: commands.Assign) -> dict[str, Any]:
        """A waiting customer picked out of order, locked as the claim locks (SKIP LOCKED): for the
        therapist named (the desk) or for the caller (a therapist)."""
        q = self.queue

        def work(s: Session, now: datetime) -> Outcome:
            target = therapist_by_id(s, cmd.therapist_id) if cmd.therapist_id is not None else None
            if cmd.therapist_id is not None and target is None:
                raise CommandError(ErrorCode.INVALID_PAYLOAD, "therapist_id: an active therapist is needed")
            who = self._actor(s, actor, cmd.therapist_token)
            txn = repo.lock_waiting(s, cmd.transaction_id)
            if txn is None:
                row = s.get(Transaction, cmd.transaction_id)
                if row is None:
                    raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {cmd.transaction_id}")
                if row.status != TxnStatus.PENDING_THERAPIST.value:
                    raise CommandError(ErrorCode.INVALID_STATE, f"{row.code} is not waiting")
                raise CommandError(ErrorCode.CONFLICT, f"{row.code} is being called by someone else right now")
            therapist = target or who.staff
            skills = q.skills_of(s, therapist)
            services = repo.item_services(s, [txn.id])[txn.id]
            if skills is not None and not can_serve(skills, services):
                name = therapist.name if therapist else "this therapist"
                raise CommandError(ErrorCode.INVALID_STATE, f"{name} does not do all of {txn.code}'s services")
            room = q.room_for(s, actor, therapist, cmd.room if target is None else None)
            before = q.transition(txn, Move.ASSIGN, who, now, target=target, room=room)
            q.on_shift(s, therapist, now)
            names = {therapist.id: therapist.name} if therapist else {}
            audit = {"therapist": therapist.id if therapist else None, "room": room, "out_of_order": True}
            return Outcome({}, txn, "claimed", audit, before, names)

        return q.uow.run("front_desk_assign", actor, cmd, work, full_result=True)[0]

    def remove_item(self, actor: Principal, cmd: commands.RemoveItem) -> dict[str, Any]:
        q = self.queue
        include_tax = q.settings.policy().till.prices_include_tax

        def work(s: Session, now: datetime) -> Outcome:
            txn = q.locked(s, cmd.transaction_id)
            before = q.transition(txn, Move.REMOVE_ITEM, self._actor(s, actor, cmd.therapist_token), now)
            items = repo.items_of(s, txn.id)
            if not any(i.id == cmd.item_id for i in items):
                raise CommandError(ErrorCode.NOT_FOUND, f"{txn.code} has no item {cmd.item_id}")
            if len(items) == 1:
                raise CommandError(ErrorCode.INVALID_STATE, f"the last item of {txn.code}: cancel the visit instead")
            item = repo.remove_item(s, txn.id, cmd.item_id)
            assert item is not None
            txn.total_minutes -= item.duration_min * item.quantity
            billing.recompute(s, txn, include_tax)
            audit = {"item_id": item.id, "service_id": item.service_id, "name": item.name, "quantity": item.quantity}
            return Outcome({}, txn, "item_removed", audit, before)

        return q.uow.run("front_desk_remove_item", actor, cmd, work, full_result=True)[0]

    def prioritise(self, actor: Principal, cmd: commands.Prioritise) -> dict[str, Any]:
        q = self.queue

        def work(s: Session, now: datetime) -> Outcome:
            txn = q.locked(s, cmd.transaction_id)
            before = q.transition(txn, Move.PRIORITISE, Actor(actor), now, priority=cmd.priority)
            txn.priority_reason = cmd.reason if cmd.priority else None
            reason = "priority_set" if cmd.priority else "priority_cleared"
            return Outcome({}, txn, reason, {"reason": cmd.reason} if cmd.reason else {}, before)

        return q.uow.run("front_desk_priority", actor, cmd, work, full_result=True)[0]

    # ---- shared -----------------------------------------------------------------------------------

    def _step(self, event: str, actor: Principal, cmd: commands.DeskAction, move: Move, reason: str) -> dict[str, Any]:
        q = self.queue
        windows = q.settings.policy().windows  # before the transaction: settings are read apart

        def work(s: Session, now: datetime) -> Outcome:
            txn = q.locked(s, cmd.transaction_id)
            before = q.transition(txn, move, self._actor(s, actor, cmd.therapist_token), now, windows=windows)
            return Outcome({}, txn, reason, {}, before)

        return q.uow.run(event, actor, cmd, work, full_result=True)[0]

    def _actor(self, s: Session, actor: Principal, therapist_token: str | None) -> Actor:
        """The caller, and the therapist it acts for when it is (or stands in for) one."""
        if therapist_token is not None or (actor.can(Capability.THERAPIST) and not actor.can(Capability.FRONT_DESK)):
            return Actor(actor, self.queue.acting_staff(s, actor, therapist_token, StaffRole.THERAPIST))
        return Actor(actor, actor if actor.kind is PrincipalKind.STAFF else None)


def therapist_by_id(s: Session, staff_id: int) -> Principal | None:
    row = s.get(Staff, staff_id)
    if row is None or not row.active or row.role != StaffRole.THERAPIST.value:
        return None
    return Principal(PrincipalKind.STAFF, row.id, StaffRole.THERAPIST, row.name)
