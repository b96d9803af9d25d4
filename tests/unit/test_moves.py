"""The transition function, exhaustively: every status × every move × every kind of actor.

The expectations are written out here as the rules read in docs/PROTOCOL.md, not derived from
the code under test: which statuses a move starts from, where it leads, who is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from server.domain.actors import Principal, PrincipalKind
from server.domain.errors import CommandError, ErrorCode
from server.domain.moves import Actor, Move, TxnState, Windows, allowed_moves, holds_payment, still_held, transition
from server.domain.status import TxnStatus as S

T0 = datetime(2026, 12, 1, 9, 0)
NOW = T0 + timedelta(minutes=30)

ANNA = Principal(PrincipalKind.STAFF, 1, "therapist", "Anna")
BEN = Principal(PrincipalKind.STAFF, 2, "therapist", "Ben")
CARLA = Principal(PrincipalKind.STAFF, 3, "cashier", "Carla")
DANA = Principal(PrincipalKind.STAFF, 4, "admin", "Dana")
KIOSK = Principal(PrincipalKind.DEVICE, 10, "kiosk", "kiosk-1")
KIOSK2 = Principal(PrincipalKind.DEVICE, 11, "kiosk", "kiosk-2")
ROOM = Principal(PrincipalKind.DEVICE, 12, "room", "room-1")
TILL = Principal(PrincipalKind.DEVICE, 13, "cashier", "till-1")
TILL2 = Principal(PrincipalKind.DEVICE, 14, "cashier", "till-2")
LOBBY = Principal(PrincipalKind.DEVICE, 15, "lobby", "lobby-1")
SYSTEM = Principal(PrincipalKind.SYSTEM, 0, "system", "server")

ACTORS: dict[str, Actor] = {
    "anna": Actor(ANNA, ANNA),  # the therapist whose customer it is
    "ben": Actor(BEN, BEN),  # another therapist
    "room alone": Actor(ROOM),  # a room box with nobody signed in
    "room with ben": Actor(ROOM, BEN),
    "carla": Actor(CARLA, CARLA),  # a cashier (not the one holding the payment)
    "dana": Actor(DANA, DANA),  # an admin
    "till": Actor(TILL),  # the till holding the payment
    "till with carla": Actor(TILL, CARLA),
    "other till": Actor(TILL2),
    "kiosk": Actor(KIOSK, ticket=True),  # the kiosk that made the transaction, showing its ticket
    "kiosk without the ticket": Actor(KIOSK),  # the next customer has touched the screen
    "other kiosk": Actor(KIOSK2),
    "lobby": Actor(LOBBY),
    "system": Actor(SYSTEM),
}

LEGAL_FROM: dict[Move, set[S]] = {
    Move.CLAIM_FOR_THERAPIST: {S.PENDING_THERAPIST},
    Move.START_SERVICE: {S.THERAPIST_CONFIRMED},
    Move.ADD_SERVICE: {S.THERAPIST_CONFIRMED, S.IN_SERVICE},
    Move.FINISH_SERVICE: {S.IN_SERVICE},
    Move.GIVE_BACK: {S.THERAPIST_CONFIRMED},
    Move.CLAIM_FOR_CASHIER: {S.AWAITING_PAYMENT},
    Move.PAY: {S.AWAITING_PAYMENT, S.PAYING},
    Move.RELEASE_PAYMENT: {S.PAYING},
    Move.CANCEL: {S.PENDING_THERAPIST, S.THERAPIST_CONFIRMED, S.NO_SHOW},
    Move.RELEASE_ABANDONED: {S.THERAPIST_CONFIRMED, S.PAYING},
    Move.NO_SHOW: {S.THERAPIST_CONFIRMED},
    Move.RECALL: {S.NO_SHOW},
    Move.TRANSFER: {S.THERAPIST_CONFIRMED},
    Move.ASSIGN: {S.PENDING_THERAPIST},
    Move.REMOVE_ITEM: {S.THERAPIST_CONFIRMED, S.IN_SERVICE, S.AWAITING_PAYMENT, S.PAYING},
    Move.UNDO_START: {S.IN_SERVICE},
    Move.UNDO_FINISH: {S.AWAITING_PAYMENT},
    Move.PRIORITISE: {S.PENDING_THERAPIST},
    Move.DISCOUNT: {S.AWAITING_PAYMENT, S.PAYING},
    Move.VOID: {S.AWAITING_PAYMENT, S.PAYING},
}
TARGET: dict[Move, dict[S, S]] = {
    Move.CLAIM_FOR_THERAPIST: {S.PENDING_THERAPIST: S.THERAPIST_CONFIRMED},
    Move.START_SERVICE: {S.THERAPIST_CONFIRMED: S.IN_SERVICE},
    Move.ADD_SERVICE: {S.THERAPIST_CONFIRMED: S.THERAPIST_CONFIRMED, S.IN_SERVICE: S.IN_SERVICE},
    Move.FINISH_SERVICE: {S.IN_SERVICE: S.AWAITING_PAYMENT},
    Move.GIVE_BACK: {S.THERAPIST_CONFIRMED: S.PENDING_THERAPIST},
    Move.CLAIM_FOR_CASHIER: {S.AWAITING_PAYMENT: S.PAYING},
    Move.PAY: {S.AWAITING_PAYMENT: S.PAID, S.PAYING: S.PAID},
    Move.RELEASE_PAYMENT: {S.PAYING: S.AWAITING_PAYMENT},
    Move.CANCEL: {S.PENDING_THERAPIST: S.CANCELLED, S.THERAPIST_CONFIRMED: S.CANCELLED, S.NO_SHOW: S.CANCELLED},
    Move.RELEASE_ABANDONED: {S.THERAPIST_CONFIRMED: S.PENDING_THERAPIST, S.PAYING: S.AWAITING_PAYMENT},
    Move.NO_SHOW: {S.THERAPIST_CONFIRMED: S.NO_SHOW},
    Move.RECALL: {S.NO_SHOW: S.PENDING_THERAPIST},
    Move.TRANSFER: {S.THERAPIST_CONFIRMED: S.THERAPIST_CONFIRMED},
    Move.ASSIGN: {S.PENDING_THERAPIST: S.THERAPIST_CONFIRMED},
    Move.REMOVE_ITEM: {s: s for s in (S.THERAPIST_CONFIRMED, S.IN_SERVICE, S.AWAITING_PAYMENT, S.PAYING)},
    Move.UNDO_START: {S.IN_SERVICE: S.THERAPIST_CONFIRMED},
    Move.UNDO_FINISH: {S.AWAITING_PAYMENT: S.IN_SERVICE},
    Move.PRIORITISE: {S.PENDING_THERAPIST: S.PENDING_THERAPIST},
    Move.DISCOUNT: {S.AWAITING_PAYMENT: S.AWAITING_PAYMENT, S.PAYING: S.PAYING},
    Move.VOID: {S.AWAITING_PAYMENT: S.CANCELLED, S.PAYING: S.CANCELLED},
}
# Wide enough that the exhaustive test's recall and undo are inside them (the windows are tested apart).
WIDE = Windows(recall=timedelta(hours=1), undo=timedelta(hours=1))
FRONT_DESK = ("carla", "dana", "till", "till with carla", "other till", "system")
THERAPIST_CAPABLE = ("anna", "ben", "room alone", "room with ben", "dana", "system")


def state_in(status: S) -> TxnState:
    """A transaction made at kiosk-1 and taken by Anna in room-1, paid at till-1 where it got that far."""
    state = TxnState(status=status, code="A-001", queue_key=T0, created_by_device_id=KIOSK.id, created_at=T0)
    with_anna = {S.THERAPIST_CONFIRMED, S.IN_SERVICE, S.AWAITING_PAYMENT, S.PAYING, S.PAID}
    if status in with_anna:
        state = replace(state, therapist_id=ANNA.id, room="room-1", therapist_confirmed_at=T0)
    if status in {S.THERAPIST_CONFIRMED, S.IN_SERVICE}:
        state = replace(state, holder=ROOM.key, claimed_at=T0)  # claimed at room-1's box
    if status in {S.IN_SERVICE, S.AWAITING_PAYMENT, S.PAYING, S.PAID}:
        state = replace(state, service_started_at=T0)
    if status in {S.AWAITING_PAYMENT, S.PAYING, S.PAID}:
        state = replace(state, service_finished_at=T0, queue_key=T0 + timedelta(minutes=1))
    if status in {S.PAYING, S.PAID}:
        state = replace(state, cashier_desk=TILL.name, cashier_claimed_at=T0)
    if status is S.PAYING:
        state = replace(state, holder=TILL.key, claimed_at=T0)
    if status is S.PAID:
        state = replace(state, paid_at=T0)
    if status is S.CANCELLED:
        state = replace(state, cancelled_at=T0)
    if status is S.NO_SHOW:
        state = replace(state, no_show_at=T0)
    return state


def own_customer(state: TxnState, who: str) -> bool:
    """Once someone has the customer: only their therapist, the box holding the claim with
    nobody signed in at it, or an admin (or the server)."""
    if state.therapist_id is None and state.holder is None:
        return True
    if who in ("anna", "dana"):
        return True
    holds = {ROOM.key: "room alone", TILL.key: "till"}.get(state.holder or "")
    return who == holds


PAYMENT_HOLDERS = ("till", "till with carla", "dana")  # the holding till (by key and by desk name), an admin


def forbidden(state: TxnState, move: Move, who: str) -> bool:
    actor = ACTORS[who]
    if move is Move.REMOVE_ITEM and state.status is S.PAYING:
        return who not in PAYMENT_HOLDERS  # at the till, only the one holding the payment
    if move in (Move.START_SERVICE, Move.ADD_SERVICE, Move.FINISH_SERVICE):
        return not own_customer(state, who)
    if move in (Move.GIVE_BACK, Move.NO_SHOW, Move.TRANSFER, Move.REMOVE_ITEM, Move.UNDO_START, Move.UNDO_FINISH):
        # The front desk on anyone's customer; a therapist (or a room box) on their own.
        if who in FRONT_DESK:
            return False
        return who not in THERAPIST_CAPABLE or not own_customer(state, who)
    if move in (Move.RECALL, Move.PRIORITISE):
        return who not in FRONT_DESK
    if move is Move.ASSIGN:  # for oneself (the desk names a target: tested apart)
        return who not in THERAPIST_CAPABLE
    if move in (Move.PAY, Move.RELEASE_PAYMENT):
        return state.status is S.PAYING and who not in PAYMENT_HOLDERS
    if move in (Move.DISCOUNT, Move.VOID):  # the till's (and the front desk's), at the holder once held
        return who not in FRONT_DESK or (state.status is S.PAYING and who not in PAYMENT_HOLDERS)
    if move is Move.CANCEL:
        if who in FRONT_DESK:
            return False
        if who in THERAPIST_CAPABLE and state.status is S.THERAPIST_CONFIRMED:
            return not own_customer(state, who)  # a therapist's own claim: the customer left
        return not (who == "kiosk" and state.status is S.PENDING_THERAPIST)
    assert actor is not None
    return False


CASES = [(status, move, who) for status in S for move in Move for who in ACTORS]


@pytest.mark.parametrize(("status", "move", "who"), CASES, ids=[f"{s}-{m}-{w}" for s, m, w in CASES])
def test_every_status_move_and_actor(status: S, move: Move, who: str) -> None:
    state = state_in(status)
    actor = ACTORS[who]
    args = {"windows": WIDE, "priority": True, "target": BEN if move is Move.TRANSFER else None}
    if forbidden(state, move, who):
        with pytest.raises(CommandError) as err:
            transition(state, move, actor, NOW, room=None, **args)
        assert err.value.code is ErrorCode.FORBIDDEN
        return
    if status not in LEGAL_FROM[move]:
        with pytest.raises(CommandError) as err:
            transition(state, move, actor, NOW, **args)
        assert err.value.code is ErrorCode.INVALID_STATE
        return
    new = transition(state, move, actor, NOW, **args)
    assert new.status is TARGET[move][status]
    check_fields(state, new, move, actor)


def check_fields(old: TxnState, new: TxnState, move: Move, actor: Actor) -> None:
    caller, staff = actor.caller, actor.staff
    assert new.code == old.code and new.created_by_device_id == old.created_by_device_id
    if move is Move.CLAIM_FOR_THERAPIST:
        assert new.therapist_id == (staff.id if staff else None)
        assert new.room == (caller.name if caller.kind is PrincipalKind.DEVICE else None)
        assert (new.holder, new.claimed_at, new.therapist_confirmed_at) == (caller.key, NOW, NOW)
        assert new.queue_key == old.queue_key
    elif move is Move.START_SERVICE:
        assert (new.service_started_at, new.holder) == (NOW, old.holder)  # the claimer keeps it
        assert new.therapist_id == old.therapist_id and new.claimed_at == old.claimed_at
    elif move is Move.ADD_SERVICE:
        assert new == old  # the items and totals are the service's; the state does not move
    elif move is Move.FINISH_SERVICE:
        assert (new.service_finished_at, new.queue_key, new.holder) == (NOW, NOW, None)
    elif move is Move.CLAIM_FOR_CASHIER:
        desk = caller.name if caller.kind is PrincipalKind.DEVICE else (staff.name if staff else caller.name)
        assert (new.cashier_desk, new.holder, new.claimed_at, new.cashier_claimed_at) == (desk, caller.key, NOW, NOW)
        assert new.cashier_id == (staff.id if staff else None)
        assert new.queue_key == old.queue_key
    elif move is Move.PAY:
        assert (new.paid_at, new.holder) == (NOW, None)
        assert new.cashier_claimed_at == (NOW if old.status is S.AWAITING_PAYMENT else old.cashier_claimed_at)
        assert new.cashier_desk == (old.cashier_desk or caller.name)
        assert new.cashier_id == (staff.id if staff else old.cashier_id)
    elif move in (Move.CANCEL, Move.VOID):
        assert (new.cancelled_at, new.holder) == (NOW, None)
    elif move is Move.DISCOUNT:
        assert new == old  # the bill is the service's
    elif move is Move.ASSIGN:  # as a claim, by the one who picks
        assert new.therapist_id == (staff.id if staff else None)
        assert new.room == (caller.name if caller.kind is PrincipalKind.DEVICE else None)
        assert (new.holder, new.claimed_at, new.therapist_confirmed_at) == (caller.key, NOW, NOW)
        assert new.queue_key == old.queue_key
    elif move is Move.TRANSFER:
        assert (new.therapist_id, new.holder, new.claimed_at, new.room) == (BEN.id, BEN.key, NOW, None)
        assert new.therapist_confirmed_at == old.therapist_confirmed_at and new.queue_key == old.queue_key
    elif move is Move.NO_SHOW:
        assert (new.no_show_at, new.holder, new.claimed_at) == (NOW, None, None)
        assert (new.therapist_id, new.room, new.therapist_confirmed_at) == (None, None, None)
        assert new.queue_key == old.queue_key  # a recall puts them back here
    elif move is Move.RECALL:
        assert new.queue_key == old.queue_key and new.created_at == old.created_at  # their original place
        assert new.holder is None and new.no_show_at == old.no_show_at
    elif move is Move.REMOVE_ITEM:
        assert new == old  # the items and totals are the service's
    elif move is Move.UNDO_START:
        assert new.service_started_at is None and new.therapist_confirmed_at == old.therapist_confirmed_at
        assert new.holder == old.holder
    elif move is Move.UNDO_FINISH:
        assert new.service_finished_at is None and new.service_started_at == old.service_started_at
        assert new.queue_key == old.created_at  # in service again, as before the finish
    elif move is Move.PRIORITISE:
        assert new == replace(old, priority=True)
    else:  # a release, by its holder or by the server: back to its original place, claim cleared
        assert new.queue_key == old.queue_key and (new.holder, new.claimed_at) == (None, None)
        if old.status is S.THERAPIST_CONFIRMED:
            assert (new.therapist_id, new.room, new.therapist_confirmed_at) == (None, None, None)
        else:
            assert (new.cashier_id, new.cashier_desk, new.cashier_claimed_at) == (None, None, None)
            assert new.therapist_id == old.therapist_id  # the service stays on record


def test_a_room_box_claim_names_the_room_it_was_given() -> None:
    new = transition(state_in(S.PENDING_THERAPIST), Move.CLAIM_FOR_THERAPIST, Actor(ROOM), NOW, room="Room 7")
    assert new.room == "Room 7" and new.therapist_id is None


REFUSALS = [
    (S.IN_SERVICE, Move.GIVE_BACK, "anna", "only an unstarted claim can be given back"),
    (S.IN_SERVICE, Move.FINISH_SERVICE, "ben", "A-001 is another therapist's customer"),
    (S.PAYING, Move.PAY, "other till", "A-001 is being paid at till-1"),
    (S.PAYING, Move.RELEASE_PAYMENT, "other till", "A-001 is held by another cashier"),
    (S.AWAITING_PAYMENT, Move.RELEASE_PAYMENT, "till", "A-001 is not being paid"),
    (S.PENDING_THERAPIST, Move.CANCEL, "other kiosk", "only its own waiting customers"),
    (S.PAID, Move.CANCEL, "carla", "cannot cancel a transaction that is paid"),
    (S.PAYING, Move.VOID, "other till", "A-001 is being paid at till-1"),
    (S.PAYING, Move.REMOVE_ITEM, "carla", "A-001 is being paid at till-1"),
    (S.PAYING, Move.DISCOUNT, "anna", "only the till may discount a bill"),
    (S.IN_SERVICE, Move.FINISH_SERVICE, "room with ben", "A-001 is another therapist's customer"),
    (S.THERAPIST_CONFIRMED, Move.START_SERVICE, "other kiosk", "A-001 is not this room's customer"),
]


ROOM2 = Principal(PrincipalKind.DEVICE, 16, "room", "room-2")
# A room box acts only on the claim it holds; a therapist only on their own customer (issue 10:
# a room box with nobody signed in could start, add to and finish another therapist's customer).
OWNERSHIP = [
    # (who holds it, therapist_id, actor, allowed)
    (ROOM.key, None, Actor(ROOM), True),  # the box that claimed, on its own
    (ROOM.key, None, Actor(ROOM2), False),  # another box
    (ROOM.key, ANNA.id, Actor(ROOM2), False),  # another box, Anna's customer
    (ROOM.key, ANNA.id, Actor(ROOM2, ANNA), True),  # Anna, signed in at another box
    (ROOM.key, ANNA.id, Actor(ROOM, BEN), False),  # Ben at the box that claimed Anna's customer
    (ANNA.key, ANNA.id, Actor(ANNA, ANNA), True),  # Anna on her own screen
    (ANNA.key, ANNA.id, Actor(BEN, BEN), False),
    (ANNA.key, ANNA.id, Actor(ROOM), False),  # a box on its own, a claim made on a staff screen
    (ROOM.key, None, Actor(BEN, BEN), False),  # a therapist, a box's claim nobody signed for
    (ROOM.key, ANNA.id, Actor(DANA, DANA), True),  # an admin, any
]


@pytest.mark.parametrize("move", [Move.START_SERVICE, Move.ADD_SERVICE, Move.GIVE_BACK])
@pytest.mark.parametrize(("holder", "therapist_id", "actor", "allowed"), OWNERSHIP)
def test_a_room_box_and_a_therapist_act_only_on_their_own(
    move: Move, holder: str, therapist_id: int | None, actor: Actor, allowed: bool
) -> None:
    state = replace(state_in(S.THERAPIST_CONFIRMED), holder=holder, therapist_id=therapist_id)
    if allowed:
        assert transition(state, move, actor, NOW).status in (S.IN_SERVICE, S.THERAPIST_CONFIRMED, S.PENDING_THERAPIST)
    else:
        with pytest.raises(CommandError) as err:
            transition(state, move, actor, NOW)
        assert err.value.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize(("status", "move", "who", "says"), REFUSALS)
def test_refusals_say_why(status: S, move: Move, who: str, says: str) -> None:
    with pytest.raises(CommandError, match=says):
        transition(state_in(status), move, ACTORS[who], NOW)


def test_the_payment_holder() -> None:
    paying = state_in(S.PAYING)
    assert holds_payment(paying, ACTORS["till"]) and holds_payment(paying, ACTORS["dana"])
    assert not holds_payment(paying, ACTORS["other till"]) and not holds_payment(paying, ACTORS["carla"])
    assert holds_payment(replace(paying, cashier_id=CARLA.id), ACTORS["carla"])  # the cashier who claimed it


def test_an_abandoned_claim_is_released_only_if_still_the_same_claim() -> None:
    claimed = state_in(S.THERAPIST_CONFIRMED)
    assert still_held(claimed, ROOM.key, T0)
    assert not still_held(claimed, ROOM.key, T0 + timedelta(seconds=1))  # claimed again since
    assert not still_held(claimed, TILL.key, T0)
    assert not still_held(state_in(S.IN_SERVICE), ROOM.key, T0)  # started: no longer a claim to take back


@pytest.mark.parametrize("status", list(S))
def test_allowed_moves_are_exactly_the_legal_ones(status: S) -> None:
    expected = [m for m in Move if m is not Move.RELEASE_ABANDONED and status in LEGAL_FROM[m]]
    assert allowed_moves(status) == expected
    assert Move.RELEASE_ABANDONED not in allowed_moves(status)


def test_changed_lists_only_what_moved() -> None:
    old = state_in(S.IN_SERVICE)
    new = transition(old, Move.FINISH_SERVICE, ACTORS["anna"], NOW)
    assert new.changed(old) == {
        "status": "awaiting_payment",
        "service_finished_at": NOW,
        "queue_key": NOW,
        "holder": None,  # the service ended: nobody holds it until a till claims the payment
    }


FRONT_DESK_REFUSALS = [
    (S.PENDING_THERAPIST, Move.CANCEL, "kiosk without the ticket", "the ticket is needed to cancel from the kiosk"),
    (S.PENDING_THERAPIST, Move.PRIORITISE, "anna", "only the front desk may prioritise"),
    (S.NO_SHOW, Move.RECALL, "ben", "only the front desk may recall"),
    (S.THERAPIST_CONFIRMED, Move.NO_SHOW, "ben", "A-001 is another therapist's customer"),
    (S.THERAPIST_CONFIRMED, Move.NO_SHOW, "kiosk", "a kiosk may not no show"),
    (S.IN_SERVICE, Move.UNDO_START, "room with ben", "A-001 is another therapist's customer"),
]


@pytest.mark.parametrize(("status", "move", "who", "says"), FRONT_DESK_REFUSALS)
def test_front_desk_refusals_say_why(status: S, move: Move, who: str, says: str) -> None:
    with pytest.raises(CommandError, match=says) as err:
        transition(state_in(status), move, ACTORS[who], NOW, windows=WIDE, priority=True)
    assert err.value.code is ErrorCode.FORBIDDEN


@pytest.mark.parametrize(
    ("status", "move", "since", "window", "allowed"),
    [
        (S.IN_SERVICE, Move.UNDO_START, timedelta(minutes=1), Windows(undo=timedelta(minutes=2)), True),
        (S.IN_SERVICE, Move.UNDO_START, timedelta(minutes=3), Windows(undo=timedelta(minutes=2)), False),
        (S.AWAITING_PAYMENT, Move.UNDO_FINISH, timedelta(seconds=119), Windows(undo=timedelta(minutes=2)), True),
        (S.AWAITING_PAYMENT, Move.UNDO_FINISH, timedelta(seconds=121), Windows(undo=timedelta(minutes=2)), False),
        (S.NO_SHOW, Move.RECALL, timedelta(minutes=29), Windows(recall=timedelta(minutes=30)), True),
        (S.NO_SHOW, Move.RECALL, timedelta(minutes=31), Windows(recall=timedelta(minutes=30)), False),
    ],
)
def test_undo_and_recall_only_within_their_window(
    status: S, move: Move, since: timedelta, window: Windows, allowed: bool
) -> None:
    state = state_in(status)  # every moment in it is T0
    now = T0 + since
    if allowed:
        assert transition(state, move, ACTORS["dana"], now, windows=window).status is TARGET[move][status]
    else:
        with pytest.raises(CommandError, match="too late") as err:
            transition(state, move, ACTORS["dana"], now, windows=window)
        assert err.value.code is ErrorCode.INVALID_STATE


def test_transfer_and_assign_name_an_active_therapist() -> None:
    claimed, waiting = state_in(S.THERAPIST_CONFIRMED), state_in(S.PENDING_THERAPIST)
    with pytest.raises(CommandError, match="an active therapist") as err:
        transition(claimed, Move.TRANSFER, ACTORS["carla"], NOW)  # no target
    assert err.value.code is ErrorCode.INVALID_PAYLOAD
    with pytest.raises(CommandError, match="an active therapist"):
        transition(claimed, Move.TRANSFER, ACTORS["carla"], NOW, target=CARLA)  # a cashier is no therapist
    # The desk picks a waiting customer for Ben: Ben holds the claim, in the room given.
    picked = transition(waiting, Move.ASSIGN, ACTORS["carla"], NOW, target=BEN, room="Room 2")
    assert (picked.therapist_id, picked.holder, picked.room) == (BEN.id, BEN.key, "Room 2")
    # A therapist may not pick for someone else.
    with pytest.raises(CommandError, match="only the front desk picks") as err:
        transition(waiting, Move.ASSIGN, ACTORS["anna"], NOW, target=BEN)
    assert err.value.code is ErrorCode.FORBIDDEN


def test_a_transfer_moves_the_claim_to_the_new_therapist() -> None:
    claimed = state_in(S.THERAPIST_CONFIRMED)
    moved = transition(claimed, Move.TRANSFER, ACTORS["anna"], NOW, target=BEN, room="Room 2")
    assert (moved.therapist_id, moved.holder, moved.room, moved.claimed_at) == (BEN.id, BEN.key, "Room 2", NOW)
    # Ben now has the customer: Anna no longer acts on it.
    with pytest.raises(CommandError, match="another therapist's customer"):
        transition(moved, Move.START_SERVICE, ACTORS["anna"], NOW)
    assert transition(moved, Move.START_SERVICE, Actor(BEN, BEN), NOW).status is S.IN_SERVICE
