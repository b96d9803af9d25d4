"""The till on both databases: payments far above the bill, split tenders and tips, discounts and
voids with a manager, refunds as entries of their own, receipt numbers, taxes, and the cash
drawer's sessions with their X and Z reports (issue 12)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, update

from common.wire import PaymentMethod
from server.db.engine import Database
from server.db.models import (
    AuditEntry,
    Payment,
    PrintJob,
    Refund,
    Service,
    TillReport,
    TillSession,
    Transaction,
    TransactionItem,
)
from server.domain.errors import CommandError, ErrorCode
from server.protocol import schema
from server.service import commands
from server.service.principals import Principal
from server.service.queue import QueueService
from server.service.till import TillService


@pytest.fixture
def at_till(service: QueueService, actors: dict[str, Principal], order: Any) -> Any:
    """A fresh order, served by Anna and claimed at the till (cashier-1): its transaction id."""

    def make(items: list[tuple[int, int]] | None = None) -> int:
        tid = int(order(items=items or [(7, 1)])["transaction_id"])
        service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, "1"))
        service.start_service(actors["Anna"], schema.TxnAction(tid))
        service.finish_service(actors["Anna"], schema.TxnAction(tid))
        service.lookup_for_cashier(actors["cashier-1"], commands.Lookup(code_of(service, tid), None))
        return tid

    return make


def code_of(service: QueueService, tid: int) -> str:
    with service.db.read() as s:
        txn = s.get(Transaction, tid)
        assert txn is not None
        return txn.code


def manager(people: dict[str, Any], name: str = "Dana") -> commands.ManagerPin:
    return commands.ManagerPin(people[name]["id"], people[name]["pin"])


def refused(code: ErrorCode, call: Any) -> str:
    with pytest.raises(CommandError) as err:
        call()
    assert err.value.code is code, err.value.message
    return err.value.message


def pay(tid: int, cash: int = 0, card: int = 0, tip: int = 0, confirm: bool = False, key: str | None = None) -> Any:
    tenders = tuple((m, c) for m, c in (("cash", cash), ("card", card)) if c)
    return commands.Pay(tid, cash + card, PaymentMethod.CASH, None, key, tenders, tip, confirm)


def table_counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {
            m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Payment, Refund, PrintJob, TillReport, AuditEntry)
        }


# ---- paying ---------------------------------------------------------------------------------------


def test_two_thousand_for_an_eighteen_euro_bill_waits_for_the_cashiers_confirmation(
    till: TillService, actors: dict[str, Principal], at_till: Any, db: Database
) -> None:
    tid = at_till([(7, 1)])  # Head and shoulders, €18.00
    before = table_counts(db)
    message = refused(ErrorCode.CONFIRMATION_NEEDED, lambda: till.pay(actors["cashier-1"], pay(tid, cash=200_000)))
    assert "2000.00 tendered for 18.00" in message
    assert table_counts(db) == before  # nothing taken, nothing printed, no receipt number used
    paid = till.pay(actors["cashier-1"], pay(tid, cash=200_000, confirm=True))
    assert paid["change"] == "1982.00" and paid["payment"]["receipt_number"].endswith("-000001")


def test_a_two_hundred_euro_note_for_eighteen_needs_no_confirmation(
    till: TillService, actors: dict[str, Principal], at_till: Any
) -> None:
    tid = at_till([(7, 1)])
    assert till.pay(actors["cashier-1"], pay(tid, cash=20_000))["change"] == "182.00"


def test_split_tender_gives_change_only_from_cash_and_keeps_the_tip(
    till: TillService, actors: dict[str, Principal], at_till: Any, db: Database
) -> None:
    tid = at_till([(1, 1), (7, 1)])  # 45.00 + 18.00 = 63.00
    refused(ErrorCode.INVALID_PAYLOAD, lambda: till.pay(actors["cashier-1"], pay(tid, card=7000, cash=500)))
    paid = till.pay(actors["cashier-1"], pay(tid, card=4000, cash=3000, tip=500))
    # Owed 63.00 + 5.00 tip = 68.00: the card 40.00, the cash 30.00 → 2.00 back, from the cash.
    assert paid["change"] == "2.00"
    assert paid["payment"]["method"] == "split" and paid["payment"]["tip"] == "5.00"
    assert paid["payment"]["tenders"] == [{"method": "cash", "amount": "30.00"}, {"method": "card", "amount": "40.00"}]
    receipt = paid["print_job"]["receipt"]
    assert receipt["tip"] == "5.00" and receipt["tenders"] == paid["payment"]["tenders"]
    assert paid["print_job"]["open_drawer"] is True
    status = till.status(actors["cashier-1"], commands.Empty())
    report = status["report"]
    # The demo drawer opened with 100.00: cash in 30.00 − 2.00 change; the card 40.00.
    assert report["expected"] == {"cash": "128.00", "card": "40.00"} and report["tips"] == "5.00"


def test_a_card_only_payment_keeps_the_drawer_shut(
    till: TillService, actors: dict[str, Principal], at_till: Any
) -> None:
    tid = at_till()
    paid = till.pay(actors["cashier-1"], pay(tid, card=1800))
    assert paid["payment"]["method"] == "card" and paid["print_job"]["open_drawer"] is False


def test_a_closed_till_takes_no_cash_but_takes_cards(
    till: TillService, actors: dict[str, Principal], at_till: Any, db: Database
) -> None:
    cashier = actors["cashier-1"]
    till.close_till(cashier, commands.TillClose(((10_000, 1),)))
    tid = at_till()
    before = table_counts(db)
    refused(ErrorCode.TILL_CLOSED, lambda: till.pay(cashier, pay(tid, cash=2000)))
    assert table_counts(db) == before
    assert till.pay(cashier, pay(tid, card=1800))["payment"]["method"] == "card"
    refused(ErrorCode.TILL_CLOSED, lambda: till.cash_movement(cashier, commands.CashMove("in", 100, "coins")))
    refused(ErrorCode.TILL_CLOSED, lambda: till.report_x(cashier, commands.Empty()))


# ---- receipt numbers and taxes ----------------------------------------------------------------------


def test_receipt_numbers_run_without_gaps_past_refusals_and_reprints(
    till: TillService, service: QueueService, actors: dict[str, Principal], at_till: Any, db: Database
) -> None:
    cashier = actors["cashier-1"]
    numbers = []
    for i in range(4):
        tid = at_till()
        if i == 1:  # a refused payment uses no number
            refused(ErrorCode.INSUFFICIENT_PAYMENT, lambda t=tid: till.pay(cashier, pay(t, cash=100)))
        numbers.append(till.pay(cashier, pay(tid, cash=2000))["payment"]["receipt_number"])
    year = service.local(service.clock()).year
    device = cashier.id
    assert numbers == [f"T{device:02d}-{year}-{n:06d}" for n in (1, 2, 3, 4)]
    with db.read() as s:
        codes = s.scalars(select(Transaction.code).order_by(Transaction.id)).all()
    assert len(set(codes)) == 4  # the daily ticket code is a number of its own


@pytest.mark.mysql
def test_concurrent_payments_at_one_till_take_every_number_once(mysql_url: str) -> None:
    """Eight threads pay at the same till on MariaDB at once: numbers 1…N, no gap, no twin."""
    from zoneinfo import ZoneInfo

    from server.service import admin
    from server.service.sessions import SignInLimiter, SignInPolicy
    from server.service.till import ManagerCheck

    db = Database(mysql_url, pool_size=20, max_overflow=0)
    people = {row["name"]: row for row in admin.load_demo(db)}
    actors = {n: Principal(p["kind"], p["id"], p["role"], p["name"]) for n, p in people.items()}
    service = QueueService(db, zone=ZoneInfo("UTC"))
    limiter = SignInLimiter()
    till_service = TillService(db, service, ManagerCheck(limiter, SignInPolicy()))
    kiosk, anna, cashier = actors["kiosk-1"], actors["Anna"], actors["cashier-1"]
    ids = []
    for i in range(16):
        tid = service.confirm_selection(kiosk, commands.ConfirmSelection(f"G{i}", (commands.ItemRequest(7, 1),)))[
            "transaction_id"
        ]
        service.claim_for_therapist(anna, commands.TherapistClaim(None, "1"))
        service.start_service(anna, commands.TxnAction(tid))
        service.finish_service(anna, commands.TxnAction(tid))
        ids.append(tid)
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pay_some(chunk: list[int]) -> None:
        for tid in chunk:
            try:
                number = till_service.pay(cashier, pay(tid, cash=2000))["payment"]["receipt_number"]
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                with lock:
                    errors.append(exc)
                continue
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=pay_some, args=(ids[i::8],), name=f"test.pay{i}") for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    limiter.close()
    db.dispose()
    assert not errors, errors
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 17))


def test_receipts_show_net_tax_and_gross_per_rate(
    till: TillService, actors: dict[str, Principal], at_till: Any
) -> None:
    tid = at_till([(1, 1), (5, 1)])  # 45.00 at 19 %, 25.00 at 7 %
    receipt = till.pay(actors["cashier-1"], pay(tid, cash=7000))["print_job"]["receipt"]
    assert receipt["prices_include_tax"] is True and receipt["total"] == "70.00"
    assert receipt["taxes"] == [
        {"rate": "7.00", "net": "23.36", "tax": "1.64", "gross": "25.00"},
        {"rate": "19.00", "net": "37.82", "tax": "7.18", "gross": "45.00"},
    ]
    assert [i["tax_rate"] for i in receipt["items"]] == ["19.00", "7.00"]


def test_prices_without_tax_add_it_on_top(
    till: TillService, service: QueueService, actors: dict[str, Principal], at_till: Any
) -> None:
    service.settings.put({"prices_include_tax": False}, "test", service.clock())
    tid = at_till([(1, 1)])  # 45.00 + 19 % = 53.55
    receipt = till.pay(actors["cashier-1"], pay(tid, cash=6000))["print_job"]["receipt"]
    assert receipt["total"] == "53.55"
    assert receipt["taxes"] == [{"rate": "19.00", "net": "45.00", "tax": "8.55", "gross": "53.55"}]


def test_a_price_change_alters_no_transaction_already_made(
    till: TillService, actors: dict[str, Principal], at_till: Any, db: Database
) -> None:
    tid = at_till([(1, 1)])
    with db.write() as s:
        s.execute(update(Service).where(Service.id == 1).values(price_cents=9900, tax_rate_bp=700))
    paid = till.pay(actors["cashier-1"], pay(tid, cash=4500))
    assert paid["transaction"]["total"] == "45.00" and paid["change"] == "0.00"
    assert paid["print_job"]["receipt"]["taxes"][0]["rate"] == "19.00"


def test_a_reprint_is_marked_copy_and_keeps_the_number(
    till: TillService, service: QueueService, actors: dict[str, Principal], at_till: Any, db: Database
) -> None:
    from server.service import printing

    tid = at_till()
    first = till.pay(actors["cashier-1"], pay(tid, cash=2000))
    _, copy = printing.reprint(db, service.receipt_header, actors["cashier-1"], tid, service.clock())
    assert copy["receipt"]["copy"] is True and copy["open_drawer"] is False
    assert copy["receipt"]["receipt_number"] == first["payment"]["receipt_number"]


# ---- discounts, removing a line, voids ---------------------------------------------------------------


def test_discounts_on_a_line_and_the_order_with_a_manager_above_the_threshold(
    till: TillService, actors: dict[str, Principal], people: dict[str, Any], at_till: Any, db: Database
) -> None:
    cashier = actors["cashier-1"]
    tid = at_till([(1, 1), (5, 2)])  # 45.00 + 2 × 25.00 = 95.00
    with db.read() as s:
        items = s.scalars(select(TransactionItem).where(TransactionItem.transaction_id == tid)).all()
    swedish = next(i.id for i in items if i.service_id == 1)
    line = till.discount(cashier, commands.SetDiscount(tid, "percent", 1000, "regular", swedish))
    assert line["transaction"]["total"] == "90.50"  # 10 % of 45.00 off that line
    item = next(i for i in line["transaction"]["items"] if i["id"] == swedish)
    assert (item["discount"], item["discount_reason"]) == ("4.50", "regular")

    before = table_counts(db)
    message = refused(
        ErrorCode.MANAGER_NEEDED, lambda: till.discount(cashier, commands.SetDiscount(tid, "amount", 2000, "sorry"))
    )
    assert "10 %" in message and table_counts(db) == before
    refused(
        ErrorCode.MANAGER_NEEDED,
        lambda: till.discount(
            cashier, commands.SetDiscount(tid, "amount", 2000, "sorry", manager=manager(people, "Carla"))
        ),
    )
    wrong = commands.ManagerPin(people["Dana"]["id"], "000000")
    refused(
        ErrorCode.MANAGER_NEEDED,
        lambda: till.discount(cashier, commands.SetDiscount(tid, "amount", 2000, "sorry", manager=wrong)),
    )
    order_off = till.discount(cashier, commands.SetDiscount(tid, "amount", 2000, "sorry", manager=manager(people)))
    assert order_off["transaction"]["total"] == "70.50" and order_off["transaction"]["order_discount"] == "20.00"
    taken_off = till.discount(cashier, commands.SetDiscount(tid, "amount", 0, "oops"))
    assert taken_off["transaction"]["total"] == "90.50"
    with db.read() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "discounted")).all()
    details = [json.loads(a.detail or "{}") for a in audit]
    assert [d.get("manager") for d in details] == [None, people["Dana"]["id"], None]
    paid = till.pay(cashier, pay(tid, cash=9050))
    assert paid["print_job"]["receipt"]["items"][0]["discount"] == "4.50"


def test_a_line_is_removed_at_the_till_before_payment(
    till: TillService, service: QueueService, actors: dict[str, Principal], at_till: Any
) -> None:
    from server.service.front_desk import FrontDesk

    tid = at_till([(1, 1), (7, 1)])
    view = service.get_transaction(actors["cashier-1"], tid)
    head = next(i["id"] for i in view["items"] if i["service_id"] == 7)
    desk = FrontDesk(service)
    refused(
        ErrorCode.FORBIDDEN,
        lambda: desk.remove_item(
            actors["Carla"], schema.parse("front_desk_remove_item")({"transaction_id": tid, "item_id": head})
        ),
    )  # another cashier: the till holds this payment
    removed = desk.remove_item(
        actors["cashier-1"], schema.parse("front_desk_remove_item")({"transaction_id": tid, "item_id": head})
    )
    assert removed["transaction"]["total"] == "45.00" and removed["transaction"]["status"] == "paying"
    assert till.pay(actors["cashier-1"], pay(tid, cash=4500))["change"] == "0.00"


def test_a_void_needs_a_manager_and_prints_a_slip_without_opening_the_drawer(
    till: TillService, actors: dict[str, Principal], people: dict[str, Any], at_till: Any, db: Database
) -> None:
    cashier = actors["cashier-1"]
    tid = at_till()
    before = table_counts(db)
    refused(ErrorCode.MANAGER_NEEDED, lambda: till.void(cashier, commands.Void(tid, "walked out", None)))
    assert table_counts(db) == before
    voided = till.void(cashier, commands.Void(tid, "walked out", manager(people)))
    assert voided["transaction"]["status"] == "cancelled" and voided["transaction"]["cancel_reason"] == "void"
    slip = voided["print_job"]
    assert slip["document"]["kind"] == "void" and slip["open_drawer"] is False
    assert {"label": "Reason", "value": "walked out"} in slip["document"]["lines"]
    refused(ErrorCode.INVALID_STATE, lambda: till.pay(cashier, pay(tid, cash=2000)))


# ---- refunds ----------------------------------------------------------------------------------------


def test_refunds_per_item_and_whole_are_entries_of_their_own(
    till: TillService, actors: dict[str, Principal], people: dict[str, Any], at_till: Any, db: Database
) -> None:
    cashier = actors["cashier-1"]
    tid = at_till([(1, 1), (5, 3)])  # 45.00 + 3 × 25.00 = 120.00
    till.discount(cashier, commands.SetDiscount(tid, "amount", 1000, "loyalty"))  # 110.00
    paid = till.pay(cashier, pay(tid, cash=11000))
    with db.read() as s:
        payment_before = [tuple(r) for r in s.execute(select(Payment.__table__))]
        foot = s.scalars(
            select(TransactionItem.id).where(TransactionItem.transaction_id == tid, TransactionItem.service_id == 5)
        ).one()
    refused(ErrorCode.MANAGER_NEEDED, lambda: till.refund(cashier, commands.RefundRequest(tid, "cold", None)))
    one = till.refund(cashier, commands.RefundRequest(tid, "cold", manager(people), ((foot, 1),)))
    # The order's 10.00 off is shared by the lines (45 : 75 → 3.75 : 6.25); one of three feet: 68.75 / 3.
    assert one["refund"]["amount"] == "22.92" and one["refund"]["method"] == "cash"
    assert one["print_job"]["document"]["kind"] == "refund" and one["print_job"]["open_drawer"] is True
    assert one["refund"]["receipt_number"] != paid["payment"]["receipt_number"]
    refused(
        ErrorCode.INVALID_STATE,
        lambda: till.refund(cashier, commands.RefundRequest(tid, "again", manager(people), ((foot, 3),))),
    )
    rest = till.refund(cashier, commands.RefundRequest(tid, "closed early", manager(people)))
    assert rest["refund"]["amount"] == "87.08"  # everything left: 110.00 in all, to the cent
    refused(
        ErrorCode.INVALID_STATE,
        lambda: till.refund(cashier, commands.RefundRequest(tid, "more", manager(people))),
    )
    with db.read() as s:
        assert [tuple(r) for r in s.execute(select(Payment.__table__))] == payment_before  # never edited
        assert s.scalar(select(func.sum(Refund.amount_cents))) == 11000
        assert s.get(Transaction, tid).status == "paid"  # type: ignore[union-attr]


def test_a_refund_repeated_with_its_key_pays_back_once(
    till: TillService, actors: dict[str, Principal], people: dict[str, Any], at_till: Any, db: Database
) -> None:
    cashier = actors["cashier-1"]
    tid = at_till()
    till.pay(cashier, pay(tid, card=1800))
    request = commands.RefundRequest(tid, "wrong service", manager(people), idempotency_key="r-1")
    first = till.refund(cashier, request)
    again = till.refund(cashier, request)
    assert again["replayed"] is True and again["refund"] == first["refund"]
    assert first["refund"]["method"] == "card" and first["print_job"]["open_drawer"] is False
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Refund)) == 1


def test_a_split_payment_refund_names_its_method(
    till: TillService, actors: dict[str, Principal], people: dict[str, Any], at_till: Any
) -> None:
    cashier = actors["cashier-1"]
    tid = at_till()
    till.pay(cashier, pay(tid, card=1000, cash=800))
    refused(ErrorCode.INVALID_PAYLOAD, lambda: till.refund(cashier, commands.RefundRequest(tid, "x", manager(people))))
    back = till.refund(cashier, commands.RefundRequest(tid, "x", manager(people), method="card"))
    assert back["refund"]["method"] == "card" and back["refund"]["amount"] == "18.00"


# ---- the drawer ---------------------------------------------------------------------------------------


def test_a_day_at_the_drawer_adds_up_in_the_x_and_z_reports(
    till: TillService, actors: dict[str, Principal], people: dict[str, Any], at_till: Any, db: Database
) -> None:
    cashier = actors["cashier-1"]
    till.close_till(cashier, commands.TillClose(((10_000, 1),)))  # the demo's session, closed
    opened = till.open_till(cashier, commands.TillOpen(15_000))
    assert opened["session"]["float"] == "150.00" and opened["print_job"]["open_drawer"] is True
    refused(ErrorCode.INVALID_STATE, lambda: till.open_till(cashier, commands.TillOpen(15_000)))
    a, b, c = at_till([(1, 1)]), at_till([(7, 1)]), at_till([(5, 1)])
    till.pay(cashier, pay(a, cash=5000, tip=200))  # 45.00 + 2.00 tip, 3.00 back
    till.pay(cashier, pay(b, card=1800))
    till.pay(cashier, pay(c, cash=1000, card=1500))
    till.refund(cashier, commands.RefundRequest(b, "x", manager(people)))  # 18.00 back on the card
    till.cash_movement(cashier, commands.CashMove("out", 5000, "to the safe"))
    till.cash_movement(cashier, commands.CashMove("in", 1000, "coins"))
    x = till.report_x(cashier, commands.Empty())["report"]
    assert x["sales"] == {"cash": "57.00", "card": "33.00"} and x["tips"] == "2.00"
    assert x["refunds"] == {"cash": "0.00", "card": "18.00"}
    # 150.00 + 57.00 − 50.00 + 10.00 = 167.00 cash; 33.00 − 18.00 = 15.00 card.
    assert x["expected"] == {"cash": "167.00", "card": "15.00"} and x["payments"] == 3
    counted = ((5000, 3), (1000, 1), (200, 2))  # 150 + 10 + 4 = 164.00: 3.00 short
    z = till.close_till(cashier, commands.TillClose(counted, 1500))
    report = z["report"]
    assert report["kind"] == "z" and report["counted"]["cash"] == "164.00"
    assert report["over_short"] == {"cash": "-3.00", "card": "0.00"}
    assert report["counted"]["denominations"] == {"200": 2, "1000": 1, "5000": 3}
    assert z["print_job"]["document"]["kind"] == "z_report"
    lines = {line["label"]: line["value"] for line in z["print_job"]["document"]["lines"]}
    assert lines["Cash over/short"] == "€-3.00" and lines["Expected cash"] == "€167.00"
    with db.read() as s:
        session = s.scalars(select(TillSession).order_by(TillSession.id.desc())).first()
        assert session is not None and session.closed_at is not None and session.counted_cash_cents == 16_400
        kept = s.scalars(select(TillReport.kind).where(TillReport.session_id == session.id)).all()
        drawer_actions = ("till_opened", "cash_out", "cash_in", "x_report", "till_closed")
        trail = s.scalars(select(AuditEntry).where(AuditEntry.action.in_(drawer_actions)).order_by(AuditEntry.id)).all()
    assert sorted(kept) == ["x", "z"]
    # The owner's audit log tells the drawer's day: each step, at which till, in which session.
    this_session = [a for a in trail if json.loads(a.detail or "{}")["session"] == session.id]
    assert [a.action for a in this_session] == list(drawer_actions)
    assert {(a.actor, a.device_id) for a in this_session} == {(cashier.key, cashier.device_id)}
    details = [json.loads(a.detail or "{}") for a in this_session]
    assert details[0]["float"] == "150.00" and details[1] == {
        "session": session.id,
        "amount": "50.00",
        "reason": "to the safe",
    }
    assert details[4]["counted"] == "164.00" and details[4]["over_short"] == "-3.00"
    refused(ErrorCode.TILL_CLOSED, lambda: till.close_till(cashier, commands.TillClose(counted)))


def test_only_a_till_has_a_drawer(till: TillService, actors: dict[str, Principal]) -> None:
    refused(ErrorCode.FORBIDDEN, lambda: till.open_till(actors["Carla"], commands.TillOpen(100)))
    refused(ErrorCode.FORBIDDEN, lambda: till.status(actors["Carla"], commands.Empty()))
