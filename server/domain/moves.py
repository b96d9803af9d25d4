"""What each move does to a transaction, and who may make it: one pure function.

`transition(state, move, actor, now)` takes a transaction's state, a move, who makes it and
the time, and returns the new state (status, holder, claim fields, queue place, the moment
each status was reached) or raises a domain error. The service loads, calls this, saves: it
writes no rule of its own. Every status × move × kind of actor is table-tested in
tests/unit/test_moves.py.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import Any

from .actors import Capability, Principal, StaffRole
from .errors import CommandError, ErrorCode
from .status import CLAIMED, REACHED_AT, Command, TxnStatus, is_legal, next_status


class Move(StrEnum):
    """The moves staff and devices make; their values are what staff views list as allowed."""

    CLAIM_FOR_THERAPIST = "claim_for_therapist"
    START_SERVICE = "start_service"
    ADD_SERVICE = "add_service"
    FINISH_SERVICE = "finish_service"
    GIVE_BACK = "give_back"  # a therapist hands an unstarted claim back to its place in the queue
    CLAIM_FOR_CASHIER = "claim_for_cashier"
    PAY = "pay"
    RELEASE_PAYMENT = "release_payment"  # a till hands a payment back to the payment queue
    CANCEL = "cancel"
    RELEASE_ABANDONED = "release_abandoned"  # the server's own release of a vanished holder's claim
    # The front desk's (and, on their own customer, a therapist's):
    NO_SHOW = "no_show"  # called and did not come: out of the queue, recallable for a while
    RECALL = "recall"  # a no-show who came after all: back to their original place
    TRANSFER = "transfer"  # a claimed customer handed to another therapist
    ASSIGN = "assign"  # a waiting customer picked out of order, for a therapist
    REMOVE_ITEM = "remove_item"  # an item added by mistake, before payment
    UNDO_START = "undo_start"  # a start pressed by mistake, shortly after
    UNDO_FINISH = "undo_finish"  # a finish pressed by mistake, before a cashier has it
    PRIORITISE = "prioritise"  # priority on or off for a waiting customer
    # The till's (a manager approves the void in the service):
    DISCOUNT = "discount"  # a line or order discount before payment
    VOID = "void"  # a bill cancelled at the till before payment


# The status move each one makes, and the only statuses it starts from when narrower than the
# status table's (a release means different things for a therapist's claim and a payment).
_COMMAND: dict[Move, Command] = {
    Move.CLAIM_FOR_THERAPIST: Command.CLAIM_FOR_THERAPIST,
    Move.START_SERVICE: Command.START_SERVICE,
    Move.ADD_SERVICE: Command.ADD_SERVICE,
    Move.FINISH_SERVICE: Command.FINISH_SERVICE,
    Move.GIVE_BACK: Command.RELEASE,
    Move.CLAIM_FOR_CASHIER: Command.CLAIM_FOR_CASHIER,
    Move.PAY: Command.PAY,
    Move.RELEASE_PAYMENT: Command.RELEASE,
    Move.CANCEL: Command.CANCEL,
    Move.RELEASE_ABANDONED: Command.RELEASE,
    Move.NO_SHOW: Command.NO_SHOW,
    Move.RECALL: Command.RECALL,
    Move.TRANSFER: Command.TRANSFER,
    Move.ASSIGN: Command.CLAIM_FOR_THERAPIST,
    Move.REMOVE_ITEM: Command.REMOVE_ITEM,
    Move.UNDO_START: Command.UNDO_START,
    Move.UNDO_FINISH: Command.UNDO_FINISH,
    Move.PRIORITISE: Command.SET_PRIORITY,
    Move.DISCOUNT: Command.DISCOUNT,
    Move.VOID: Command.VOID,
}
_ONLY_FROM: dict[Move, frozenset[TxnStatus]] = {
    Move.GIVE_BACK: frozenset({TxnStatus.THERAPIST_CONFIRMED}),
    Move.ASSIGN: frozenset({TxnStatus.PENDING_THERAPIST}),
    Move.RELEASE_PAYMENT: frozenset({TxnStatus.PAYING}),
    Move.RELEASE_ABANDONED: CLAIMED,
}
# Moves a person makes from a staff screen; the server's own release is not offered.
STAFF_MOVES = tuple(m for m in Move if m is not Move.RELEASE_ABANDONED)
# Moves that put a transaction back where it was, rather than reaching a status anew: the moment
# the status was first reached is kept (a recalled customer did arrive at their arrival time).
_BACK_MOVES = frozenset({Move.GIVE_BACK, Move.RELEASE_PAYMENT, Move.RELEASE_ABANDONED, Move.RECALL})
_UNDO_MOVES = frozenset({Move.UNDO_START, Move.UNDO_FINISH})
# The front desk may make these on anyone's customer; a therapist (or a room box) on their own.
_DESK_OR_OWN = frozenset(
    {Move.NO_SHOW, Move.TRANSFER, Move.REMOVE_ITEM, Move.UNDO_START, Move.UNDO_FINISH, Move.GIVE_BACK}
)
_DESK_ONLY = frozenset({Move.RECALL, Move.PRIORITISE})


@dataclass(frozen=True)
class Windows:
    """How long a correction stays possible: the front desk's settings (docs/PROTOCOL.md)."""

    recall: timedelta = timedelta(minutes=30)  # a no-show may come back to their place this long
    undo: timedelta = timedelta(minutes=2)  # a start or a finish pressed by mistake


@dataclass(frozen=True)
class TxnState:
    """The parts of a transaction the rules read and write."""

    status: TxnStatus
    code: str
    queue_key: datetime  # its place in the queue it waits in: arrival, then the end of its service
    therapist_id: int | None = None
    room: str | None = None
    cashier_id: int | None = None
    cashier_desk: str | None = None
    # Who holds it: the claimer, from the claim until the service ends or the payment is made. The
    # server takes a claim back from a vanished holder only while it is unstarted (CLAIMED).
    holder: str | None = None
    claimed_at: datetime | None = None
    created_by_device_id: int | None = None
    created_at: datetime | None = None
    therapist_confirmed_at: datetime | None = None
    service_started_at: datetime | None = None
    service_finished_at: datetime | None = None
    cashier_claimed_at: datetime | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    no_show_at: datetime | None = None
    priority: bool = False  # called before everyone without it, first come first served among them

    @classmethod
    def of(cls, row: Any) -> TxnState:
        """From anything with these attributes (a database record); status may be its text."""
        status, *rest = _READ_STATE(row)
        return cls(TxnStatus(status), *rest)

    def changed(self, before: TxnState) -> dict[str, Any]:
        """The fields that differ from `before`, status as its text, ready to be written."""
        old = before.__dict__
        out = {name: value for name, value in self.__dict__.items() if old[name] != value}
        if "status" in out:
            out["status"] = self.status.value
        return out


STATE_FIELDS = tuple(f.name for f in fields(TxnState))
_READ_STATE = attrgetter(*STATE_FIELDS)  # one C call for every field, in declaration order


@dataclass(frozen=True)
class Actor:
    """Who makes a move: the connected caller, and the staff member it acts for when known
    (the caller itself, the token in the payload, or whoever signed in at the device's desk)."""

    caller: Principal
    staff: Principal | None = None
    ticket: bool = False  # a kiosk showed the customer's ticket (its public id) for this one


def transition(
    state: TxnState,
    move: Move,
    actor: Actor,
    now: datetime,
    *,
    room: str | None = None,
    target: Principal | None = None,
    priority: bool | None = None,
    windows: Windows = Windows(),
) -> TxnState:
    """The transaction after `move`, or CommandError (invalid_state, forbidden).

    `room`: where a claim (or an assignment, a transfer) sends the customer; `target`: the
    therapist a transfer or an assignment is for; `priority`: what PRIORITISE sets."""
    _authorise(state, move, actor, target)
    allowed_from = _ONLY_FROM.get(move)
    if allowed_from is not None and state.status not in allowed_from:
        raise CommandError(ErrorCode.INVALID_STATE, _narrow_refusal(state, move))
    new_status = next_status(state.status, _COMMAND[move])
    _check_window(state, move, now, windows)
    # One replace() at the end: this runs on every claim, the hot path (docs/PERFORMANCE.md).
    changes: dict[str, Any] = {"status": new_status}
    if move in (Move.GIVE_BACK, Move.RELEASE_PAYMENT, Move.RELEASE_ABANDONED):
        changes.update(_released(state))
        return replace(state, **changes)
    if new_status is not state.status and move not in _BACK_MOVES and move not in _UNDO_MOVES:
        changes[REACHED_AT[new_status]] = now
    caller, staff = actor.caller, actor.staff
    if move is Move.CLAIM_FOR_THERAPIST:
        changes.update(
            therapist_id=staff.staff_id if staff else None,
            room=room or (caller.name if caller.is_device else None),
            holder=caller.key,
            claimed_at=now,
        )
    elif move is Move.ASSIGN:
        # For the target therapist when the desk picks, else for whoever picks for themselves.
        # The desk's pick is held by the therapist it is for; one's own pick, like a claim, by
        # the caller (a room box goes on acting for it, signed in or not).
        therapist = target or staff
        changes.update(
            therapist_id=therapist.staff_id if therapist else None,
            room=room or (caller.name if caller.is_device and target is None else None),
            holder=target.key if target is not None else caller.key,
            claimed_at=now,
        )
    elif move is Move.TRANSFER:
        assert target is not None  # checked in _authorise
        # The new therapist holds the claim from now: their grace period starts afresh.
        changes.update(therapist_id=target.staff_id, room=room, holder=target.key, claimed_at=now)
    elif move is Move.NO_SHOW:
        changes.update(_released(state))
    elif move is Move.RECALL:
        changes["holder"] = None  # back at their original place: queue_key kept, no_show_at kept as history
    elif move is Move.UNDO_START:
        changes["service_started_at"] = None
    elif move is Move.UNDO_FINISH:
        # In service again, as before the finish: its place is its arrival again, and whoever has
        # the customer acts on it again.
        changes.update(
            service_finished_at=None,
            queue_key=state.created_at or state.queue_key,
            holder=f"staff:{state.therapist_id}" if state.therapist_id else (caller.key if caller.is_device else None),
        )
    elif move is Move.PRIORITISE:
        if priority is None:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, "priority: true or false is needed")
        changes["priority"] = priority
    elif move is Move.FINISH_SERVICE:
        # Now waiting for a cashier: its place is the moment the service ended.
        changes.update(queue_key=now, holder=None)
    elif move is Move.CLAIM_FOR_CASHIER:
        changes.update(
            cashier_id=staff.staff_id if staff else None,
            cashier_desk=caller.name if caller.is_device else (staff.name if staff else caller.name),
            holder=caller.key,
            claimed_at=now,
        )
    elif move is Move.PAY:
        if state.status is TxnStatus.AWAITING_PAYMENT:
            changes["cashier_claimed_at"] = now  # paid without a claim: claimed and paid at once
        changes.update(
            cashier_id=staff.staff_id if staff else state.cashier_id,
            cashier_desk=state.cashier_desk or caller.name,
            holder=None,
        )
    elif move in (Move.CANCEL, Move.VOID):
        changes["holder"] = None
    # START_SERVICE keeps the holder: the room box that claimed goes on acting for its customer
    # (the server takes back only unstarted claims). ADD_SERVICE, REMOVE_ITEM: the items are the
    # service's.
    return replace(state, **changes)


def _check_window(state: TxnState, move: Move, now: datetime, windows: Windows) -> None:
    since, within, what = {
        Move.RECALL: (state.no_show_at, windows.recall, "recall a no-show"),
        Move.UNDO_START: (state.service_started_at, windows.undo, "undo a start"),
        Move.UNDO_FINISH: (state.service_finished_at, windows.undo, "undo a finish"),
    }.get(move, (None, None, ""))
    if within is not None and (since is None or now - since > within):
        minutes = int(within.total_seconds() // 60)
        raise CommandError(ErrorCode.INVALID_STATE, f"too late to {what}: only within {minutes} min")


def _released(state: TxnState) -> dict[str, Any]:
    """Back to the queue it came from, at its original place (queue_key is kept): the claim cleared."""
    if state.status is TxnStatus.THERAPIST_CONFIRMED:
        cleared: dict[str, Any] = {"therapist_id": None, "room": None, "therapist_confirmed_at": None}
    else:
        cleared = {"cashier_id": None, "cashier_desk": None, "cashier_claimed_at": None}
    return {"holder": None, "claimed_at": None, **cleared}


def _is_desk(actor: Actor) -> bool:
    staff = actor.staff
    return actor.caller.can(Capability.FRONT_DESK) or (staff is not None and staff.can(Capability.FRONT_DESK))


def _authorise(state: TxnState, move: Move, actor: Actor, target: Principal | None = None) -> None:
    if move in _DESK_ONLY:
        if not _is_desk(actor):
            raise CommandError(ErrorCode.FORBIDDEN, f"only the front desk may {move.value.replace('_', ' ')}")
    elif move in _DESK_OR_OWN:
        if move is Move.REMOVE_ITEM and state.status is TxnStatus.PAYING:
            if not holds_payment(state, actor):  # at the till: only the till that holds the payment
                raise CommandError(ErrorCode.FORBIDDEN, f"{state.code} is being paid at {state.cashier_desk}")
            return
        if not _is_desk(actor):
            if not actor.caller.can(Capability.THERAPIST):
                what = move.value.replace("_", " ")
                raise CommandError(ErrorCode.FORBIDDEN, f"a {actor.caller.role.value} may not {what}")
            _check_own_customer(state, actor)
        if move is Move.TRANSFER:
            _check_target(target)
    elif move is Move.ASSIGN:
        if target is not None:
            if not _is_desk(actor):
                raise CommandError(ErrorCode.FORBIDDEN, "only the front desk picks a customer for another therapist")
            _check_target(target)
        elif not actor.caller.can(Capability.THERAPIST):
            raise CommandError(ErrorCode.FORBIDDEN, "a therapist picks for themselves; the desk names the therapist")
    elif move in (Move.START_SERVICE, Move.ADD_SERVICE, Move.FINISH_SERVICE):
        _check_own_customer(state, actor)
    elif move in (Move.PAY, Move.DISCOUNT, Move.VOID):
        if move is not Move.PAY and not (actor.caller.can(Capability.CASHIER) or _is_desk(actor)):
            raise CommandError(ErrorCode.FORBIDDEN, f"only the till may {move.value} a bill")
        if state.status is TxnStatus.PAYING and not holds_payment(state, actor):
            raise CommandError(ErrorCode.FORBIDDEN, f"{state.code} is being paid at {state.cashier_desk}")
    elif move is Move.RELEASE_PAYMENT:
        if state.status is TxnStatus.PAYING and not holds_payment(state, actor):
            raise CommandError(ErrorCode.FORBIDDEN, f"{state.code} is held by another cashier")
    elif move is Move.CANCEL:
        caller = actor.caller
        if caller.can(Capability.CANCEL) or (actor.staff is not None and actor.staff.can(Capability.CANCEL)):
            return
        if caller.can(Capability.THERAPIST) and state.status is TxnStatus.THERAPIST_CONFIRMED:
            _check_own_customer(state, actor)  # a therapist's own claim: the customer left
            return
        own = caller.can(Capability.CANCEL_OWN) and state.created_by_device_id == caller.device_id
        if not own or state.status is not TxnStatus.PENDING_THERAPIST:
            raise CommandError(ErrorCode.FORBIDDEN, "this device may cancel only its own waiting customers")
        if not actor.ticket:
            # The kiosk's page keeps the ticket only until the next customer touches the screen.
            raise CommandError(ErrorCode.FORBIDDEN, "the ticket is needed to cancel from the kiosk")


def _check_target(target: Principal | None) -> None:
    if target is None or target.staff_id is None or not target.acts_as(StaffRole.THERAPIST):
        raise CommandError(ErrorCode.INVALID_PAYLOAD, "therapist_id: an active therapist is needed")


def _check_own_customer(state: TxnState, actor: Actor) -> None:
    """Once someone has a customer, a therapist acts only on their own, a room box with nobody
    signed in only on the claim it holds; an admin on any."""
    if state.therapist_id is None and state.holder is None:
        return  # nobody has it: the move itself decides (a waiting customer is claimed, not started)
    caller, staff = actor.caller, actor.staff
    if caller.is_admin or (staff is not None and staff.is_admin):
        return
    if staff is not None:
        if state.therapist_id != staff.id:
            raise CommandError(ErrorCode.FORBIDDEN, f"{state.code} is another therapist's customer")
        return
    if not (caller.is_device and state.holder == caller.key):
        raise CommandError(ErrorCode.FORBIDDEN, f"{state.code} is not this room's customer")


def holds_payment(state: TxnState, actor: Actor) -> bool:
    """The till or cashier that claimed a payment (or an admin) may finish or release it."""
    caller, staff = actor.caller, actor.staff
    if caller.is_admin or state.holder == caller.key:
        return True
    if staff is not None and staff.staff_id is not None and staff.staff_id == state.cashier_id:
        return True
    return caller.is_device and caller.name == state.cashier_desk


def still_held(state: TxnState, holder: str, claimed_at: datetime) -> bool:
    """The same claim the server saw abandoned, not one made since by someone else."""
    return state.status in CLAIMED and state.holder == holder and state.claimed_at == claimed_at


def allowed_moves(status: TxnStatus) -> list[Move]:
    """The moves a staff screen may offer for a transaction in `status`, in a stable order."""
    return list(_ALLOWED[status])


_ALLOWED: dict[TxnStatus, tuple[Move, ...]] = {
    status: tuple(
        m for m in STAFF_MOVES if is_legal(status, _COMMAND[m]) and (m not in _ONLY_FROM or status in _ONLY_FROM[m])
    )
    for status in TxnStatus
}


def _narrow_refusal(state: TxnState, move: Move) -> str:
    if move is Move.GIVE_BACK:
        return "only an unstarted claim can be given back"
    if move is Move.RELEASE_PAYMENT:
        return f"{state.code} is not being paid"
    if move is Move.ASSIGN:
        return f"{state.code} is not waiting"
    return f"{state.code} is not held by anyone"
