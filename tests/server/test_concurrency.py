"""Races, on both databases: claimers never share a customer, concurrent additions all count,
a real deadlock is retried, and MariaDB runs claims at READ COMMITTED through the queue index."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, text

from server.db.driver import mariadb_cursor
from server.db.engine import Database
from server.db.models import Service, Transaction, TransactionItem
from server.domain.errors import CommandError, ErrorCode
from server.domain.status import TxnStatus
from server.protocol import schema
from server.service.principals import Principal
from server.service.queue import QueueService
from tests.support import fill_waiting

WAITING = 1000
CLAIMERS = 32


def fill_queue(db: Database, n: int, status: TxnStatus = TxnStatus.PENDING_THERAPIST) -> list[int]:
    return fill_waiting(db, n, status.value)


def claim_all(service: QueueService, claim: Any, actors: list[Principal]) -> list[list[int]]:
    """Each of len(actors) threads claims until the queue is empty; returns what each got."""
    barrier = threading.Barrier(len(actors))

    def worker(actor: Principal) -> list[int]:
        got: list[int] = []
        barrier.wait()
        while True:
            try:
                got.append(claim(actor)["transaction"]["id"])
            except CommandError as exc:
                assert exc.code is ErrorCode.QUEUE_EMPTY
                return got

    with ThreadPoolExecutor(len(actors)) as pool:
        return list(pool.map(worker, actors))


@pytest.mark.slow
def test_32_therapists_claim_1000_customers_each_exactly_once(
    db: Database, service: QueueService, people: dict[str, Any]
) -> None:
    ids = fill_queue(db, WAITING)
    therapists = [Principal("staff", people["Anna"]["id"], "therapist", f"T{i}") for i in range(CLAIMERS)]
    claimed = claim_all(
        service, lambda a: service.claim_for_therapist(a, schema.TherapistClaim(None, None)), therapists
    )
    flat = [tid for got in claimed for tid in got]
    duplicates = [tid for tid, n in Counter(flat).items() if n > 1]
    assert duplicates == []
    assert sorted(flat) == sorted(ids)
    assert sum(1 for got in claimed if got) > 1  # the claimers really ran side by side
    # First come, first served within each claimer's sequence.
    order = {tid: i for i, tid in enumerate(ids)}
    assert all([order[t] for t in got] == sorted(order[t] for t in got) for got in claimed)
    with db.read() as s:
        rows = s.execute(select(Transaction.status, func.count()).group_by(Transaction.status))
        statuses = {status: count for status, count in rows}
    assert statuses == {"therapist_confirmed": WAITING}


@pytest.mark.slow
def test_32_cashiers_claim_1000_payments_each_exactly_once(
    db: Database, service: QueueService, people: dict[str, Any]
) -> None:
    ids = fill_queue(db, WAITING, TxnStatus.AWAITING_PAYMENT)
    tills = [Principal("device", people["cashier-1"]["id"], "cashier", f"till-{i}") for i in range(CLAIMERS)]
    claimed = claim_all(service, lambda a: service.claim_for_cashier(a, schema.CashierClaim(None)), tills)
    flat = [tid for got in claimed for tid in got]
    assert len(flat) == len(set(flat)) == WAITING
    assert set(flat) == set(ids)


def test_concurrent_additions_lose_nothing(db: Database, service: QueueService, people: dict[str, Any]) -> None:
    anna = Principal("staff", people["Anna"]["id"], "therapist", "Anna")
    kiosk = Principal("device", people["kiosk-1"]["id"], "kiosk", "kiosk-1")
    tid = service.confirm_selection(kiosk, schema.ConfirmSelection("Maria", (schema.ItemRequest(1, 1),)))[
        "transaction_id"
    ]
    service.claim_for_therapist(anna, schema.TherapistClaim(None, None))
    service.start_service(anna, schema.TxnAction(tid))
    with db.read() as s:
        prices = {svc.id: (svc.price_cents, svc.duration_min) for svc in s.scalars(select(Service))}
    additions = [(sid, q) for sid in prices for q in (1, 2)] * 3  # 42 additions from 16 threads at once

    def add(job: tuple[int, int]) -> None:
        service.add_service(anna, schema.AddService(tid, job[0], job[1], None))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(add, additions))
    with db.read() as s:
        txn = s.get(Transaction, tid)
        items = s.scalars(select(TransactionItem).where(TransactionItem.transaction_id == tid)).all()
    assert txn is not None
    assert len(items) == 1 + len(additions)
    expected_cents = prices[1][0] + sum(prices[sid][0] * q for sid, q in additions)
    expected_minutes = prices[1][1] + sum(prices[sid][1] * q for sid, q in additions)
    assert txn.total_cents == sum(i.unit_price_cents * i.quantity for i in items) == expected_cents
    assert txn.total_minutes == expected_minutes


@pytest.mark.mysql
@pytest.mark.parametrize("through", ["sqlalchemy", "driver"])
def test_a_real_deadlock_is_retried(mysql_url: str, through: str) -> None:
    """Two writers lock two rows in opposite orders; MariaDB kills one (1213) and run_write retries
    it, whether the statement went through SQLAlchemy or straight through the driver (the claim
    path's statements: PyMySQL's own exception would pass the retry by)."""
    db = Database(mysql_url, pool_size=4, max_overflow=0)
    try:
        with db.write() as s:
            s.execute(
                text(
                    "INSERT INTO daily_counters (business_day, last_number) VALUES ('2026-01-01', 0), ('2026-01-02', 0)"
                )
            )
        barrier = threading.Barrier(2)
        attempts = Counter[str]()

        def bump(session: Any, day: str) -> None:
            if through == "driver":
                cursor = mariadb_cursor(session)
                assert cursor is not None
                sql = "UPDATE daily_counters SET last_number = last_number + 1 WHERE business_day = %s"
                cursor.execute(sql, (day,))
            else:
                session.execute(
                    text("UPDATE daily_counters SET last_number = last_number + 1 WHERE business_day = :d"), {"d": day}
                )

        def writer(name: str, first: str, second: str) -> None:
            def work(session: Any) -> None:
                attempts[name] += 1
                bump(session, first)
                if attempts[name] == 1:
                    barrier.wait(timeout=5)
                bump(session, second)

            db.run_write(work)

        threads = [
            threading.Thread(target=writer, args=("a", "2026-01-01", "2026-01-02")),
            threading.Thread(target=writer, args=("b", "2026-01-02", "2026-01-01")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        with db.read() as s:
            counts = [r[0] for r in s.execute(text("SELECT last_number FROM daily_counters ORDER BY business_day"))]
        assert counts == [2, 2]  # both writers' effects, each exactly once
        assert sorted(attempts.values()) == [1, 2]  # the deadlock victim ran again
    finally:
        db.dispose()


@pytest.mark.mysql
def test_mariadb_claims_run_at_read_committed_through_the_queue_index(mysql_url: str) -> None:
    db = Database(mysql_url)
    try:
        with db.write() as s:
            level = s.execute(text("SELECT @@tx_isolation")).scalar()
            plan = (
                s.execute(
                    text(
                        "EXPLAIN SELECT id FROM transactions WHERE status = 'pending_therapist' "
                        "ORDER BY queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED"
                    )
                )
                .mappings()
                .one()
            )
        assert level == "READ-COMMITTED"
        assert plan["key"] == "ix_transactions_queue"
        assert "filesort" not in (plan["Extra"] or "")
    finally:
        db.dispose()


def test_sqlite_writers_take_the_write_lock_at_begin(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        with db.write() as s:
            s.execute(text("SELECT 1"))  # a read, yet the transaction already holds the write lock
            other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0.1, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
    finally:
        db.dispose()


@pytest.mark.mysql
def test_the_skilled_claim_is_served_by_the_call_index_candidate_by_candidate(mysql_url: str) -> None:
    """The claim of a therapist who does not do everything: the outer scan in call order over
    ix_transactions_call (no sort), each candidate's items looked up in ix_transaction_items_skills
    (a dependent subquery), never a set of every item ever sold materialised per claim."""
    from server.db import queue_repo

    db = Database(mysql_url)
    try:
        fill_queue(db, 50)
        sql = queue_repo._skilled_candidates_sql(frozenset({1, 2, 3}))
        with db.write() as s:
            plan = list(s.execute(text("EXPLAIN " + sql)).mappings())
        outer, inner = plan
        assert outer["key"] == "ix_transactions_call" and "filesort" not in (outer["Extra"] or "")
        assert inner["select_type"] == "DEPENDENT SUBQUERY" and inner["key"] == "ix_transaction_items_skills"
    finally:
        db.dispose()


@pytest.mark.mysql
def test_a_skilled_claim_in_flight_locks_nobody_it_passes_over(mysql_url: str) -> None:
    """Issue 14 (the simulated days on MariaDB): a claim filtered by skills under FOR UPDATE
    SKIP LOCKED kept the customers it scanned and rejected locked until it committed, so a
    therapist who can do everything, claiming in that moment, skipped the first customer and
    called the third. The skilled claim now locks only the customer it takes."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from server.db import queue_repo
    from server.service import admin

    db = Database(mysql_url)
    try:
        admin.load_demo(db)  # services 1 and 2
        first, second, third = fill_queue(db, 3)
        with db.write() as s:
            s.execute(
                insert(TransactionItem).values(
                    transaction_id=first, service_id=2, name="Hot stone", quantity=1, unit_price_cents=1,
                    duration_min=60, added_by="test", created_at=datetime.now(UTC).replace(tzinfo=None),
                )
            )  # fmt: skip
        with db.write() as skilled:
            taken = queue_repo.claim_next_for_therapist(skilled, frozenset({1}))  # not service 2
            assert taken is not None and taken.id == second
            # Still in flight, holding its claim: somebody who can do everything claims now.
            with db.write() as everything:
                called = queue_repo.claim_next_for_therapist(everything, None)
                assert called is not None and called.id == first, f"called {called and called.id}, not {first}"
        assert third  # still waiting: nobody passed over it
    finally:
        db.dispose()
