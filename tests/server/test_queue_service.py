"""The queue's commands against real databases (SQLite and MariaDB), one transaction each."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from server.db.engine import Database
from server.db.models import AuditEntry, IdempotencyKey, Payment, Transaction
from server.domain.errors import CommandError, ErrorCode
from server.protocol import schema
from server.service.commands import Cancel
from server.service.principals import Principal
from server.service.queue import QueueService
from server.service.till import TillService

from .conftest import Clock


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that commands write: equal dumps mean nothing changed."""
    tables = [
        "transactions",
        "transaction_items",
        "payments",
        "audit_log",
        "queue_state",
        "daily_counters",
        "idempotency_keys",
    ]
    with db.read() as s:
        return {t: [tuple(r) for r in s.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in tables}


def walk_to(service: QueueService, actors: dict[str, Principal], order: Any, status: str) -> dict[str, Any]:
    """A fresh transaction moved along the happy path up to `status`."""
    created = order()
    tid = created["transaction_id"]
    steps = [
        ("therapist_confirmed", lambda: service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, "1"))),
        ("in_service", lambda: service.start_service(actors["Anna"], schema.TxnAction(tid))),
        ("awaiting_payment", lambda: service.finish_service(actors["Anna"], schema.TxnAction(tid))),
        ("paying", lambda: service.claim_for_cashier(actors["Carla"], schema.CashierClaim(None))),
    ]
    for reached, step in steps:
        if status == "pending_therapist":
            break
        step()
        if reached == status:
            break
    return created


def test_happy_path_with_exact_money_and_audit(
    service: QueueService,
    till: TillService,
    actors: dict[str, Principal],
    order: Any,
    db: Database,
    published: list[Any],
) -> None:
    created = order(items=[(1, 1), (5, 2)])  # 45.00 + 2 × 25.00
    assert created["code"].endswith("-001") and created["total"] == "95.00"
    assert created["position"] == 1 and created["estimated_wait_min"] == 0
    tid = created["transaction_id"]

    claim = service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, "3"))
    assert claim["transaction"]["id"] == tid and claim["transaction"]["room"] == "3"
    assert claim["transaction"]["therapist"] == {"id": actors["Anna"].id, "name": "Anna"}
    service.start_service(actors["Anna"], schema.TxnAction(tid))
    added = service.add_service(actors["Anna"], schema.AddService(tid, 7, 1, None))
    assert added["transaction"]["total"] == "113.00"
    assert [i["added_by"] for i in added["transaction"]["items"]] == [
        "device:1",
        "device:1",
        f"staff:{actors['Anna'].id}",
    ]
    service.finish_service(actors["Anna"], schema.TxnAction(tid))
    service.claim_for_cashier(actors["Carla"], schema.CashierClaim(None))
    paid = till.pay(actors["Carla"], schema.Pay(tid, 12000, "cash", None))
    assert paid["change"] == "7.00"
    assert paid["payment"] == {**paid["payment"], "amount_due": "113.00", "amount_paid": "120.00", "method": "cash"}
    assert paid["transaction"]["status"] == "paid"

    with db.read() as s:
        txn = s.get(Transaction, tid)
        assert txn is not None and txn.total_cents == 11300 and txn.total_minutes == 60 + 60 + 20
        assert all(
            getattr(txn, f) is not None
            for f in (
                "therapist_confirmed_at",
                "service_started_at",
                "service_finished_at",
                "cashier_claimed_at",
                "paid_at",
            )
        )
        payment = s.scalars(select(Payment)).one()
        assert (payment.amount_due_cents, payment.amount_paid_cents, payment.change_cents) == (11300, 12000, 700)
        audit = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(a.action, a.from_status, a.to_status) for a in audit] == [
        ("created", None, "pending_therapist"),
        ("claimed", "pending_therapist", "therapist_confirmed"),
        ("started", "therapist_confirmed", "in_service"),
        ("service_added", "in_service", "in_service"),
        ("finished", "in_service", "awaiting_payment"),
        ("cashier_claimed", "awaiting_payment", "paying"),
        ("paid", "paying", "paid"),
    ]
    assert audit[0].device_id == actors["kiosk-1"].id and audit[1].staff_id == actors["Anna"].id
    # One change per command, versions rising by one.
    assert [c.version for c in published] == list(range(published[0].version, published[0].version + 7))


def test_queue_is_first_come_first_served(service: QueueService, actors: dict[str, Principal], order: Any) -> None:
    codes = [order(name=f"Guest {i}")["code"] for i in range(5)]
    claimed = [
        service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, None))["transaction"]["code"]
        for _ in range(5)
    ]
    assert claimed == codes
    with pytest.raises(CommandError) as err:
        service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, None))
    assert err.value.code is ErrorCode.QUEUE_EMPTY


@pytest.mark.parametrize(
    ("status", "attempt", "code"),
    [
        ("pending_therapist", "start", ErrorCode.INVALID_STATE),
        ("pending_therapist", "finish", ErrorCode.INVALID_STATE),
        ("pending_therapist", "pay", ErrorCode.INVALID_STATE),
        ("therapist_confirmed", "finish", ErrorCode.INVALID_STATE),
        ("in_service", "pay", ErrorCode.INVALID_STATE),
        ("in_service", "cancel", ErrorCode.INVALID_STATE),
        ("awaiting_payment", "pay_short", ErrorCode.INSUFFICIENT_PAYMENT),
        ("paying", "pay_short", ErrorCode.INSUFFICIENT_PAYMENT),
        ("awaiting_payment", "add_unknown", ErrorCode.INVALID_STATE),
        ("in_service", "add_unknown", ErrorCode.UNKNOWN_SERVICE),
        ("in_service", "other_therapist", ErrorCode.FORBIDDEN),
        ("paying", "other_kiosk_cancel", ErrorCode.FORBIDDEN),
        ("pending_therapist", "missing", ErrorCode.NOT_FOUND),
    ],
)
def test_a_refused_command_changes_nothing(
    service: QueueService,
    till: TillService,
    actors: dict[str, Principal],
    order: Any,
    db: Database,
    status: str,
    attempt: str,
    code: ErrorCode,
) -> None:
    tid = walk_to(service, actors, order, status)["transaction_id"]
    before = dump(db)
    attempts = {
        "start": lambda: service.start_service(actors["Anna"], schema.TxnAction(tid)),
        "finish": lambda: service.finish_service(actors["Anna"], schema.TxnAction(tid)),
        "pay": lambda: till.pay(actors["Carla"], schema.Pay(tid, 100_000, "cash", None)),
        "pay_short": lambda: till.pay(actors["Carla"], schema.Pay(tid, 4499, "card", None)),
        "cancel": lambda: service.cancel(actors["Carla"], Cancel(tid, "other")),
        "add_unknown": lambda: service.add_service(actors["Anna"], schema.AddService(tid, 999, 1, None)),
        "other_therapist": lambda: service.add_service(actors["Ben"], schema.AddService(tid, 1, 1, None)),
        "other_kiosk_cancel": lambda: service.cancel(actors["kiosk-1"], Cancel(tid, "customer")),
        "missing": lambda: service.start_service(actors["Anna"], schema.TxnAction(tid + 1000)),
    }
    with pytest.raises(CommandError) as err:
        attempts[attempt]()
    assert err.value.code is code
    assert dump(db) == before


def test_unknown_service_at_the_kiosk_creates_nothing(service: QueueService, order: Any, db: Database) -> None:
    before = dump(db)
    with pytest.raises(CommandError) as err:
        order(items=[(1, 1), (404, 1)])
    assert err.value.code is ErrorCode.UNKNOWN_SERVICE
    assert dump(db) == before


def test_idempotent_retry_has_one_effect_and_the_same_answer(
    service: QueueService, order: Any, db: Database, published: list[Any]
) -> None:
    first = order(key="kiosk-1:42")
    again = order(key="kiosk-1:42")
    assert again.pop("replayed") is True
    assert again == first
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Transaction)) == 1
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
    assert len(published) == 1
    # The same key from another caller is another command.
    assert order(key="kiosk-1:43")["transaction_id"] != first["transaction_id"]


def test_an_idempotency_key_cannot_be_reused_for_another_command(
    service: QueueService, actors: dict[str, Principal], order: Any
) -> None:
    order(key="k1")
    with pytest.raises(CommandError) as err:
        service.cancel(actors["kiosk-1"], Cancel(1, "other", idempotency_key="k1"))
    assert err.value.code is ErrorCode.INVALID_PAYLOAD


def test_kiosk_may_cancel_only_its_own_waiting_customer(
    service: QueueService, actors: dict[str, Principal], order: Any
) -> None:
    made = order()
    tid = made["transaction_id"]
    # Without the ticket (the next customer has touched the kiosk): refused.
    with pytest.raises(CommandError) as err:
        service.cancel(actors["kiosk-1"], Cancel(tid, "customer"))
    assert err.value.code is ErrorCode.FORBIDDEN
    result = service.cancel(actors["kiosk-1"], Cancel(tid, "other", ticket=made["public_id"]))
    assert result["transaction"]["status"] == "cancelled"
    assert result["transaction"]["cancel_reason"] == "customer"  # whatever a kiosk says
    with pytest.raises(CommandError) as err:
        service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, None))
    assert err.value.code is ErrorCode.QUEUE_EMPTY


def test_therapist_release_returns_the_customer_to_the_front(
    service: QueueService, actors: dict[str, Principal], order: Any
) -> None:
    first, second = order(name="First")["transaction_id"], order(name="Second")["transaction_id"]
    claim = service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, None))
    assert claim["transaction"]["id"] == first
    released = service.release_by_therapist(actors["Anna"], schema.TxnAction(first))
    assert released["transaction"]["status"] == "pending_therapist" and released["transaction"]["therapist"] is None
    again = service.claim_for_therapist(actors["Ben"], schema.TherapistClaim(None, None))
    assert again["transaction"]["id"] == first  # its original place, ahead of `second`
    assert service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, None))["transaction"]["id"] == second


def test_cashier_lookup_by_code_claims_and_shows(
    service: QueueService, actors: dict[str, Principal], order: Any
) -> None:
    created = walk_to(service, actors, order, "awaiting_payment")
    looked = service.lookup_for_cashier(actors["cashier-1"], schema.Lookup(created["code"], None))
    assert looked["transaction"]["status"] == "paying"
    assert looked["transaction"]["cashier_desk"] == "cashier-1"
    # Looking it up again at the same till shows it without changing it.
    again = service.lookup_for_cashier(actors["cashier-1"], schema.Lookup(created["code"], None))
    assert again["transaction"]["row_version"] == looked["transaction"]["row_version"]
    with pytest.raises(CommandError) as err:
        service.lookup_for_cashier(actors["cashier-1"], schema.Lookup("Z-999", None))
    assert err.value.code is ErrorCode.NOT_FOUND


def test_codes_restart_every_business_day(db: Database, actors: dict[str, Principal]) -> None:
    from zoneinfo import ZoneInfo

    clock = Clock()
    service = QueueService(db, zone=ZoneInfo("UTC"), clock=clock)
    kiosk = actors["kiosk-1"]
    item = (schema.ItemRequest(1, 1),)
    today = [service.confirm_selection(kiosk, schema.ConfirmSelection(f"G{i}", item))["code"] for i in range(3)]
    clock.advance(24 * 3600)
    tomorrow = service.confirm_selection(kiosk, schema.ConfirmSelection("Next day", item))["code"]
    assert today == ["A-001", "A-002", "A-003"] and tomorrow == "A-001"


def test_a_payment_held_by_another_till_is_refused(
    service: QueueService, till: TillService, actors: dict[str, Principal], order: Any, db: Database
) -> None:
    tid = walk_to(service, actors, order, "awaiting_payment")["transaction_id"]
    service.claim_for_cashier(actors["cashier-1"], schema.CashierClaim(None))
    other = Principal("device", 99, "cashier", "cashier-2")
    before = dump(db)
    with pytest.raises(CommandError) as err:
        till.pay(other, schema.Pay(tid, 100_000, "cash", None))
    assert err.value.code is ErrorCode.FORBIDDEN
    assert dump(db) == before


def test_snapshot_positions_and_public_view(service: QueueService, actors: dict[str, Principal], order: Any) -> None:
    for i in range(3):
        order(name=f"Guest Number{i}", items=[(1, 1)])
    service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, "1"))
    public = service.snapshot(actors["lobby-1"])
    staff = service.snapshot(actors["Anna"])
    assert [w["position"] for w in public["waiting"]] == [1, 2]
    # Two therapists, one busy with a 60-minute service: next is free now, the one after in 60.
    assert [w["estimated_wait_min"] for w in public["waiting"]] == [0, 60]
    assert "customer_name" not in public["waiting"][0] and public["waiting"][0]["first_name"] == "Guest"
    assert staff["waiting"][0]["customer_name"] == "Guest Number1"
    assert public["version"] == staff["version"] == 4
    assert len(public["with_therapist"]) == 1


def test_a_kiosks_quote_reads_only_what_it_quotes_and_quotes_as_before(
    db: Database, service: QueueService, actors: dict[str, Principal]
) -> None:
    """With many waiting, a confirm quoted the newcomer from every live transaction loaded whole
    (~240 ms with 5,000 waiting, nearly all of it building ORM rows). It reads a few columns now:
    no Transaction row is loaded, and the quote is the one the whole rows give."""
    from sqlalchemy import event

    from server.db import queue_repo
    from server.domain.status import LIVE
    from server.service import estimating
    from tests.support import fill_waiting

    fill_waiting(db, 200)
    service.claim_for_therapist(actors["Anna"], schema.TherapistClaim(None, "1"))  # one busy therapist
    loaded: list[int] = []

    def count(target: Transaction, _: object) -> None:
        loaded.append(target.id)

    event.listen(Transaction, "load", count)
    try:
        # Made at the desk: a kiosk would turn the 200th away (the queue is full).
        wanted = (schema.ItemRequest(1, 1), schema.ItemRequest(2, 1))
        made = service.confirm_selection(actors["Dana"], schema.ConfirmSelection("Newcomer", wanted))
    finally:
        event.remove(Transaction, "load", count)
    assert loaded == []
    with db.read() as s:
        live = [t for t in queue_repo.in_statuses(s, list(LIVE)) if t.id != made["transaction_id"]]
        quoted, _, _ = estimating.quote_live(s, live, service.clock(), newcomer=((1, 1), (2, 1)))
    newcomer = quoted[estimating.NEWCOMER_ID]
    assert (made["position"], made["estimated_wait_min"]) == (newcomer.position, newcomer.estimated_wait_min)
    assert made["position"] == 200  # behind the 199 still waiting
