"""A simulated spa day (issue 14): a short day through the real protocol — its own server, kiosks,
rooms with therapists signed in, two tills that are the appliance daemon printing on virtual
printers — keeps every invariant; and each invariant's check catches the fault it is for, shown
by breaking the day's own ledger one way at a time."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import pytest

from server import cli
from server.simulation import checks, model
from server.simulation.ledger import Ledger, PaymentRow
from server.simulation.options import Options
from server.simulation.run import Outcome, simulate

pytestmark = pytest.mark.slow

SEED = 7  # its plan has no-shows (some recalled), customers who give up, appointments, splits and tips
CUSTOMERS = 40


@pytest.fixture(scope="module")
def day() -> Outcome:
    opts = Options(
        url=None, database_url=None, tokens_file=None, kiosks=2, rooms=3, tills=2, customers=CUSTOMERS,
        speed=20_000, seed=SEED, printers=True,
    )  # fmt: skip
    return simulate(opts)


def test_the_plan_is_the_seeds_and_has_every_kind_of_visit() -> None:
    minutes = {1: 60, 2: 60, 3: 45, 4: 75, 5: 30, 6: 45, 7: 20}
    plan = model.plan_day(model.Params(customers=CUSTOMERS, seed=SEED), minutes)
    assert plan == model.plan_day(model.Params(customers=CUSTOMERS, seed=SEED), minutes)
    assert plan != model.plan_day(model.Params(customers=CUSTOMERS, seed=SEED + 1), minutes)
    assert [v.arrival_s for v in plan] == sorted(v.arrival_s for v in plan)
    kinds = Counter(v.payment.tender for v in plan)
    assert kinds[model.Tender.CASH] and kinds[model.Tender.CARD] and kinds[model.Tender.SPLIT]
    assert any(v.no_show and v.recalled for v in plan) and any(v.no_show and not v.recalled for v in plan)
    assert any(v.gives_up_after_s for v in plan) and any(v.priority for v in plan)
    assert any(v.added_service for v in plan) and any(v.payment.tip_cents for v in plan)


@pytest.mark.parametrize(("owed", "tender", "expected"), [
    (4500, model.Payment(model.Tender.CARD, 0, 0.5, 500), [("card", 4500)]),
    (4730, model.Payment(model.Tender.CASH, 200, 0.5, 1000), [("cash", 5000)]),
    (6300, model.Payment(model.Tender.SPLIT, 0, 0.5, 500), [("card", 3150), ("cash", 3500)]),
])  # fmt: skip
def test_tenders_cover_the_bill_with_card_never_above_it(
    owed: int, tender: model.Payment, expected: list[tuple[str, int]]
) -> None:
    assert tender.tenders(owed) == expected


def test_cash_is_counted_by_denomination() -> None:
    assert model.count_cash(18_765) == {10_000: 1, 5_000: 1, 2_000: 1, 1_000: 1, 500: 1, 200: 1, 50: 1, 10: 1, 5: 1}


def test_a_short_day_keeps_every_invariant(day: Outcome) -> None:
    assert day.violations == []
    summary, ledger = day.summary, day.ledger
    assert summary.customers == CUSTOMERS and summary.turned_away == 0
    assert summary.paid + summary.cancelled + summary.no_show == CUSTOMERS
    assert summary.paid == len(ledger.payments) > 0 and summary.cancelled >= 1 and summary.no_show >= 1
    # Both tills took payments, in cash, by card and split, each printed and read back.
    assert {p.device_id for p in ledger.payments} == {t.device_id for t in ledger.tallies} and len(ledger.tallies) == 2
    methods = Counter(frozenset(t.method for t in p.tenders) for p in ledger.payments)
    assert methods[frozenset({"cash"})] and methods[frozenset({"card"})] and methods[frozenset({"cash", "card"})]
    assert summary.printed == len(ledger.payments)
    assert sum(z.payments for z in ledger.z_reports) == len(ledger.payments)
    assert sum(z.sales["cash"] + z.sales["card"] for z in ledger.z_reports) == sum(
        p.due_cents + p.tip_cents for p in ledger.payments
    )
    assert any(a.action == "recalled" for a in ledger.audit) and any(a.action == "priority_set" for a in ledger.audit)
    assert any(a.action == "service_added" for a in ledger.audit)
    assert 0 < summary.utilisation <= 1 and summary.wait_p90_min >= summary.wait_median_min
    assert summary.customers_per_s > 0


def test_a_claim_made_twice_is_caught(day: Outcome) -> None:
    ledger = _copy(day.ledger)
    claim = next(a for a in ledger.audit if a.action == "claimed")
    ledger.audit.insert(ledger.audit.index(claim) + 1, dataclasses.replace(claim, seq=claim.seq, staff_id=999))
    found = _failed(ledger)
    assert "claimed_once" in found and "while therapist_confirmed" in found["claimed_once"]


def test_a_claim_acknowledged_to_two_rooms_is_caught(day: Outcome) -> None:
    ledger = _copy(day.ledger)
    ledger.claim_acks.append((ledger.claim_acks[0][0], "Room 9"))
    assert "claimed_once" in _failed(ledger)


def test_a_payment_missing_from_the_z_report_is_caught(day: Outcome) -> None:
    ledger = _copy(day.ledger)
    z = ledger.z_reports[0]
    lost = next(p for p in ledger.payments if p.session_id == z.session_id)
    ledger.z_reports[0] = dataclasses.replace(
        z, payments=z.payments - 1, sales={**z.sales, "card": z.sales["card"] - _card(lost)}
    )
    found = _failed(ledger)
    assert set(found) == {"money"} and "Z report" in found["money"]


def test_a_drawer_short_by_a_cent_is_caught(day: Outcome) -> None:
    ledger = _copy(day.ledger)
    z = ledger.z_reports[-1]
    ledger.z_reports[-1] = dataclasses.replace(z, counted_cash_cents=z.counted_cash_cents - 1, over_short_cash_cents=-1)
    assert "over/short -0.01" in _failed(ledger)["money"]


def test_a_customer_called_out_of_turn_is_caught(day: Outcome) -> None:
    """A customer called while others waited is moved, in the ledger, behind all of them: the call
    now passed over someone. (On SQLite the server's writes are serialised, so the day holds FIFO
    even without the slack for claimers committing out of order.)"""
    ledger = dataclasses.replace(_copy(day.ledger), claimers=1, cashiers=1)
    assert "fifo" not in _failed(ledger)
    status: dict[int, str] = {}
    called = None
    for row in ledger.audit:
        assert row.transaction_id is not None
        others = [t for t, s in status.items() if s == "pending_therapist" and t != row.transaction_id]
        if row.action == "claimed" and others and ledger.skills.get(row.staff_id or 0) == _everything(ledger):
            called = row.transaction_id
            break
        if row.to_status:
            status[row.transaction_id] = row.to_status
    assert called is not None, "someone should have been called while others waited"
    latest = max(t.created_at for t in ledger.transactions.values())
    ledger.transactions[called] = dataclasses.replace(
        ledger.transactions[called], created_at=latest + timedelta(hours=1)
    )
    assert "waited ahead" in _failed(ledger)["fifo"]


def _everything(ledger: Ledger) -> frozenset[int]:
    return max((s for s in ledger.skills.values() if s is not None), key=len)


def test_a_gap_in_the_receipt_numbers_and_a_receipt_printed_twice_are_caught(day: Outcome) -> None:
    ledger = _copy(day.ledger)
    last = ledger.payments[-1]
    number = last.receipt_number or ""
    head, _, n = number.rpartition("-")
    ledger.payments[-1] = dataclasses.replace(last, receipt_number=f"{head}-{int(n) + 5:06d}")
    assert "gaps" in _failed(ledger)["receipts"]
    ledger = _copy(day.ledger)
    assert ledger.printed is not None
    device = next(iter(ledger.printed))
    ledger.printed[device].append(ledger.printed[device][0])
    assert "printed 2" in _failed(ledger)["receipts"]


def test_a_transaction_left_unpaid_or_paid_twice_is_caught(day: Outcome) -> None:
    ledger = _copy(day.ledger)
    paid = next(t for t in ledger.transactions.values() if t.status == "paid")
    ledger.payments.append(next(p for p in ledger.payments if p.transaction_id == paid.id))
    assert "paid 2 times" in _failed(ledger)["settled"]
    ledger = _copy(day.ledger)
    ledger.transactions[paid.id] = dataclasses.replace(paid, status="awaiting_payment")
    assert "ended the day awaiting_payment" in _failed(ledger)["settled"]


def test_the_command_line_refuses_a_url_without_its_database_and_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["simulate", "--url", "http://127.0.0.1:9", "--customers", "3"]) == 2
    assert "--url needs --database-url" in capsys.readouterr().err


def _copy(ledger: Ledger) -> Ledger:
    return dataclasses.replace(
        ledger,
        transactions=dict(ledger.transactions),
        audit=list(ledger.audit),
        payments=list(ledger.payments),
        z_reports=list(ledger.z_reports),
        claim_acks=list(ledger.claim_acks),
        printed={k: list(v) for k, v in ledger.printed.items()} if ledger.printed is not None else None,
    )


def _failed(ledger: Ledger) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    for v in checks.check(ledger):
        found.setdefault(v.invariant, []).append(v.detail)
    return {k: "\n".join(v) for k, v in found.items()}


def _card(payment: PaymentRow) -> int:
    return sum(t.amount_cents for t in payment.tenders if t.method == "card")
