"""The state machine, exhaustively: every status × every command."""

from __future__ import annotations

import itertools

import pytest

from server.domain.errors import CommandError, ErrorCode
from server.domain.status import CLAIMED, TERMINAL, Command, TxnStatus, allowed_commands, is_legal, next_status

S, C = TxnStatus, Command

# The only legal moves; every other (status, command) pair must be refused.
EXPECTED = {
    (S.PENDING_THERAPIST, C.CLAIM_FOR_THERAPIST): S.THERAPIST_CONFIRMED,
    (S.PENDING_THERAPIST, C.CANCEL): S.CANCELLED,
    (S.THERAPIST_CONFIRMED, C.START_SERVICE): S.IN_SERVICE,
    (S.THERAPIST_CONFIRMED, C.ADD_SERVICE): S.THERAPIST_CONFIRMED,
    (S.THERAPIST_CONFIRMED, C.CANCEL): S.CANCELLED,
    (S.THERAPIST_CONFIRMED, C.RELEASE): S.PENDING_THERAPIST,
    (S.IN_SERVICE, C.ADD_SERVICE): S.IN_SERVICE,
    (S.IN_SERVICE, C.FINISH_SERVICE): S.AWAITING_PAYMENT,
    (S.AWAITING_PAYMENT, C.CLAIM_FOR_CASHIER): S.PAYING,
    (S.AWAITING_PAYMENT, C.PAY): S.PAID,
    (S.PAYING, C.PAY): S.PAID,
    (S.PAYING, C.RELEASE): S.AWAITING_PAYMENT,
    # The front desk's corrections (issue 11).
    (S.PENDING_THERAPIST, C.SET_PRIORITY): S.PENDING_THERAPIST,
    (S.THERAPIST_CONFIRMED, C.NO_SHOW): S.NO_SHOW,
    (S.NO_SHOW, C.RECALL): S.PENDING_THERAPIST,
    (S.NO_SHOW, C.CANCEL): S.CANCELLED,
    (S.THERAPIST_CONFIRMED, C.TRANSFER): S.THERAPIST_CONFIRMED,
    (S.THERAPIST_CONFIRMED, C.REMOVE_ITEM): S.THERAPIST_CONFIRMED,
    (S.IN_SERVICE, C.REMOVE_ITEM): S.IN_SERVICE,
    (S.AWAITING_PAYMENT, C.REMOVE_ITEM): S.AWAITING_PAYMENT,
    (S.IN_SERVICE, C.UNDO_START): S.THERAPIST_CONFIRMED,
    (S.AWAITING_PAYMENT, C.UNDO_FINISH): S.IN_SERVICE,
    # The till's (issue 12): a line removed, a discount, a void, before payment.
    (S.PAYING, C.REMOVE_ITEM): S.PAYING,
    (S.AWAITING_PAYMENT, C.DISCOUNT): S.AWAITING_PAYMENT,
    (S.PAYING, C.DISCOUNT): S.PAYING,
    (S.AWAITING_PAYMENT, C.VOID): S.CANCELLED,
    (S.PAYING, C.VOID): S.CANCELLED,
}


@pytest.mark.parametrize(("status", "command"), list(itertools.product(TxnStatus, Command)))
def test_every_status_and_command(status: TxnStatus, command: Command) -> None:
    if (status, command) in EXPECTED:
        assert next_status(status, command) is EXPECTED[(status, command)]
        assert is_legal(status, command)
    else:
        with pytest.raises(CommandError) as err:
            next_status(status, command)
        assert err.value.code is ErrorCode.INVALID_STATE
        assert status.value.replace("_", " ") in err.value.message
        assert not is_legal(status, command)


def test_terminal_statuses_allow_nothing_but_a_no_show_s_recall_or_cancel() -> None:
    for status in TERMINAL - {S.NO_SHOW}:
        assert allowed_commands(status) == frozenset()
    assert allowed_commands(S.NO_SHOW) == {C.RECALL, C.CANCEL}


def test_cancel_only_before_service_starts() -> None:
    cancellable = {s for s in TxnStatus if is_legal(s, C.CANCEL)}
    assert cancellable == {S.PENDING_THERAPIST, S.THERAPIST_CONFIRMED, S.NO_SHOW}


def test_release_undoes_exactly_the_claims() -> None:
    for claimed in CLAIMED:
        released = next_status(claimed, C.RELEASE)
        claim = C.CLAIM_FOR_THERAPIST if claimed is S.THERAPIST_CONFIRMED else C.CLAIM_FOR_CASHIER
        assert next_status(released, claim) is claimed


def test_happy_path_reaches_paid() -> None:
    status = S.PENDING_THERAPIST
    for command in (
        C.CLAIM_FOR_THERAPIST,
        C.START_SERVICE,
        C.ADD_SERVICE,
        C.FINISH_SERVICE,
        C.CLAIM_FOR_CASHIER,
        C.PAY,
    ):
        status = next_status(status, command)
    assert status is S.PAID
