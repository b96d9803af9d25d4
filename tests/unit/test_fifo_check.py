"""The simulated day's FIFO check on audit logs written by hand: on MariaDB an audit row's id is
handed out at INSERT, not COMMIT, so a desk's recall in flight beside a claim can take the lower
id although the claim never saw it (CI once failed the fault test on exactly this: #8 recalled at
audit 52, #9 claimed at 53). Within the ledger's reorder window that is excused; beyond it, or
where writes are serialised (window 0), it is still a pass-over."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.simulation import checks
from server.simulation.ledger import AuditRow, Ledger, TxnRow

OPEN = datetime(2026, 12, 7, 9, 0)
THERAPIST, OTHER = 11, 12


def _txn(tid: int, minute: int, status: str = "pending_therapist") -> TxnRow:
    return TxnRow(tid, f"A{tid:03d}", status, OPEN + timedelta(minutes=minute), frozenset({1}))


def _row(seq: int, tid: int, action: str, was: str | None, to: str | None, staff: int | None = None) -> AuditRow:
    return AuditRow(seq, tid, action, was, to, staff, None)


def _recall_then_claim(gap: int, window: int) -> Ledger:
    """#8 (first in) is called, misses it and is recalled; #9 (second in) is claimed ``gap`` rows
    after the recall, the rows between being a third customer's arrival and cancellation."""
    audit = [
        _row(40, 8, "created", None, "pending_therapist"),
        _row(41, 9, "created", None, "pending_therapist"),
        _row(42, 8, "claimed", "pending_therapist", "therapist_confirmed", OTHER),
        _row(43, 8, "no_show", "therapist_confirmed", "no_show", OTHER),
        _row(52, 8, "recalled", "no_show", "pending_therapist"),
    ]
    for k in range(gap - 1):
        audit.append(_row(60 + k, 20 + k, "created", None, "cancelled"))
    audit.append(_row(100, 9, "claimed", "pending_therapist", "therapist_confirmed", THERAPIST))
    txns = {8: _txn(8, 0), 9: _txn(9, 5)} | {20 + k: _txn(20 + k, 10 + k, "cancelled") for k in range(gap - 1)}
    return Ledger(
        transactions=txns,
        audit=audit,
        payments=[],
        skills={THERAPIST: None, OTHER: None},
        claimers=2,
        reorder_window=window,
    )


def test_a_recall_racing_a_claim_is_excused_within_the_reorder_window() -> None:
    assert checks.fifo(_recall_then_claim(gap=1, window=4)) == []
    assert checks.fifo(_recall_then_claim(gap=4, window=4)) == []


def test_the_same_pass_over_is_caught_where_writes_are_serialised_or_beyond_the_window() -> None:
    (serialised,) = checks.fifo(_recall_then_claim(gap=1, window=0))
    assert "claimed A009 (#9) while A008 (#8) waited ahead (audit 100)" in serialised
    (beyond,) = checks.fifo(_recall_then_claim(gap=5, window=4))
    assert "A008 (#8) waited ahead" in beyond


def test_priority_taken_from_the_claimed_customer_during_the_claim_is_excused() -> None:
    """#9 had priority when the claim read the queue; the desk's clearing of it took a lower id."""
    audit = [
        _row(1, 8, "created", None, "pending_therapist"),
        _row(2, 9, "created", None, "pending_therapist"),
        _row(3, 9, "priority_set", None, None),
        _row(4, 9, "priority_cleared", None, None),
        _row(5, 9, "claimed", "pending_therapist", "therapist_confirmed", THERAPIST),
    ]
    ledger = Ledger({8: _txn(8, 0), 9: _txn(9, 5)}, audit, [], {THERAPIST: None}, reorder_window=2)
    assert checks.fifo(ledger) == []
    assert len(checks.fifo(Ledger(ledger.transactions, audit, [], ledger.skills, reorder_window=0))) == 1
