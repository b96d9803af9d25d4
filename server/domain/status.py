"""Transaction statuses and the only legal moves between them."""

from __future__ import annotations

from enum import StrEnum

from .errors import CommandError, ErrorCode


class TxnStatus(StrEnum):
    PENDING_THERAPIST = "pending_therapist"
    THERAPIST_CONFIRMED = "therapist_confirmed"
    IN_SERVICE = "in_service"
    AWAITING_PAYMENT = "awaiting_payment"
    PAYING = "paying"
    PAID = "paid"
    CANCELLED = "cancelled"
    # Called and did not come: out of the queue, but the front desk may recall them to their
    # original place for a while (docs/PROTOCOL.md, front desk).
    NO_SHOW = "no_show"


class Command(StrEnum):
    CLAIM_FOR_THERAPIST = "claim_for_therapist"
    START_SERVICE = "start_service"
    ADD_SERVICE = "add_service"
    FINISH_SERVICE = "finish_service"
    CLAIM_FOR_CASHIER = "claim_for_cashier"
    PAY = "pay"
    CANCEL = "cancel"
    # A claim given back (by its holder, or by the server after the holder vanished)
    # returns the transaction to its queue at its original place.
    RELEASE = "release"
    NO_SHOW = "no_show"
    RECALL = "recall"
    TRANSFER = "transfer"
    REMOVE_ITEM = "remove_item"
    UNDO_START = "undo_start"
    UNDO_FINISH = "undo_finish"
    SET_PRIORITY = "set_priority"
    DISCOUNT = "discount"
    VOID = "void"


S = TxnStatus
_MOVES: dict[tuple[TxnStatus, Command], TxnStatus] = {
    (S.PENDING_THERAPIST, Command.CLAIM_FOR_THERAPIST): S.THERAPIST_CONFIRMED,
    (S.PENDING_THERAPIST, Command.CANCEL): S.CANCELLED,
    (S.THERAPIST_CONFIRMED, Command.START_SERVICE): S.IN_SERVICE,
    (S.THERAPIST_CONFIRMED, Command.ADD_SERVICE): S.THERAPIST_CONFIRMED,
    (S.THERAPIST_CONFIRMED, Command.CANCEL): S.CANCELLED,
    (S.THERAPIST_CONFIRMED, Command.RELEASE): S.PENDING_THERAPIST,
    (S.IN_SERVICE, Command.ADD_SERVICE): S.IN_SERVICE,
    (S.IN_SERVICE, Command.FINISH_SERVICE): S.AWAITING_PAYMENT,
    (S.AWAITING_PAYMENT, Command.CLAIM_FOR_CASHIER): S.PAYING,
    # The original cashier terminals pay a transaction they looked up without claiming it.
    (S.AWAITING_PAYMENT, Command.PAY): S.PAID,
    (S.PAYING, Command.PAY): S.PAID,
    (S.PAYING, Command.RELEASE): S.AWAITING_PAYMENT,
    # The front desk's corrections (and a therapist's, on their own customer).
    (S.PENDING_THERAPIST, Command.SET_PRIORITY): S.PENDING_THERAPIST,
    (S.THERAPIST_CONFIRMED, Command.NO_SHOW): S.NO_SHOW,
    (S.NO_SHOW, Command.RECALL): S.PENDING_THERAPIST,
    (S.NO_SHOW, Command.CANCEL): S.CANCELLED,
    (S.THERAPIST_CONFIRMED, Command.TRANSFER): S.THERAPIST_CONFIRMED,
    (S.THERAPIST_CONFIRMED, Command.REMOVE_ITEM): S.THERAPIST_CONFIRMED,
    (S.IN_SERVICE, Command.REMOVE_ITEM): S.IN_SERVICE,
    (S.AWAITING_PAYMENT, Command.REMOVE_ITEM): S.AWAITING_PAYMENT,
    (S.IN_SERVICE, Command.UNDO_START): S.THERAPIST_CONFIRMED,
    (S.AWAITING_PAYMENT, Command.UNDO_FINISH): S.IN_SERVICE,
    # The till's: a discount or a line removed before payment; a void (with a manager) instead of it.
    (S.PAYING, Command.REMOVE_ITEM): S.PAYING,
    (S.AWAITING_PAYMENT, Command.DISCOUNT): S.AWAITING_PAYMENT,
    (S.PAYING, Command.DISCOUNT): S.PAYING,
    (S.AWAITING_PAYMENT, Command.VOID): S.CANCELLED,
    (S.PAYING, Command.VOID): S.CANCELLED,
}

# The moment each status was reached is kept in a column of its own.
REACHED_AT: dict[TxnStatus, str] = {
    S.PENDING_THERAPIST: "created_at",
    S.THERAPIST_CONFIRMED: "therapist_confirmed_at",
    S.IN_SERVICE: "service_started_at",
    S.AWAITING_PAYMENT: "service_finished_at",
    S.PAYING: "cashier_claimed_at",
    S.PAID: "paid_at",
    S.CANCELLED: "cancelled_at",
    S.NO_SHOW: "no_show_at",
}

WAITING_FOR_THERAPIST = S.PENDING_THERAPIST
WAITING_FOR_CASHIER = S.AWAITING_PAYMENT
CLAIMED = frozenset({S.THERAPIST_CONFIRMED, S.PAYING})
WITH_THERAPIST = frozenset({S.THERAPIST_CONFIRMED, S.IN_SERVICE})
# In the queue's live view, in the order a snapshot lists them.
LIVE = (S.PENDING_THERAPIST, S.THERAPIST_CONFIRMED, S.IN_SERVICE, S.AWAITING_PAYMENT, S.PAYING)
# Out of the live queue: paid, cancelled, or a no-show (recallable for a while, from the desk).
TERMINAL = frozenset({S.PAID, S.CANCELLED, S.NO_SHOW})


def next_status(status: TxnStatus, command: Command) -> TxnStatus:
    """The status `command` moves a transaction in `status` to, or CommandError(invalid_state)."""
    try:
        return _MOVES[(status, command)]
    except KeyError:
        raise CommandError(
            ErrorCode.INVALID_STATE,
            f"cannot {command.value.replace('_', ' ')} a transaction that is {status.value.replace('_', ' ')}",
        ) from None


def is_legal(status: TxnStatus, command: Command) -> bool:
    return (status, command) in _MOVES


def allowed_commands(status: TxnStatus) -> frozenset[Command]:
    return frozenset(c for (s, c) in _MOVES if s is status)
