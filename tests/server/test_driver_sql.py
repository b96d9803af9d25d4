"""The claim path's statements sent straight through PyMySQL on MariaDB (server/db/driver.py) read
and write exactly what SQLAlchemy's would: every column, type and awkward value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from server.db import queue_repo, roster_repo
from server.db.engine import Database
from server.db.models import Staff, StaffSkill, Transaction, TransactionItem
from server.domain.status import TxnStatus
from server.service import admin

pytestmark = pytest.mark.mysql

NAME = 'Zoë O\'Brien "Zo" \\ 李 😀'


def core_row(db: Database, table: Any, **where: Any) -> list[dict[str, Any]]:
    with db.read() as s:
        query = select(table)
        for column, wanted in where.items():
            query = query.where(table.c[column] == wanted)
        return [dict(r) for r in s.execute(query.order_by(table.c.id)).mappings()]


def record_dict(record: queue_repo.TxnRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k != "_loaded"}


def test_a_transaction_and_its_items_read_as_sqlalchemy_reads_them(mysql_url: str) -> None:
    db = Database(mysql_url)
    try:
        admin.load_demo(db)
        now = datetime(2026, 12, 7, 9, 30, 15, 123456)
        with db.write() as s:
            txn_id = s.execute(
                insert(Transaction).values(
                    business_day=date(2026, 12, 7), code="A-042", customer_name=NAME, status="pending_therapist",
                    queue_key=now, created_at=now, total_cents=12345, total_minutes=90, priority=True,
                    priority_reason="appointment", public_id="abc_-DEF", discount_kind="percent",
                    discount_value=1000, discount_cents=1234, discount_reason="staff 10 %",
                )
            ).inserted_primary_key[0]  # fmt: skip
            for service_id, price in ((1, 4500), (2, 7845)):
                s.execute(
                    insert(TransactionItem).values(
                        transaction_id=txn_id, service_id=service_id, name=f"{NAME} {service_id}", quantity=2,
                        unit_price_cents=price, duration_min=45, added_by="device:1", created_at=now,
                        tax_rate_bp=1900, discount_kind="cents", discount_value=100, discount_cents=100,
                    )
                )  # fmt: skip
        with db.write() as s:
            locked = queue_repo.lock_transaction(s, txn_id)
            items = queue_repo.items_of(s, txn_id)
        assert locked is not None
        assert record_dict(locked) == core_row(db, queue_repo.TXN, id=txn_id)[0]
        assert locked.priority is True and locked.queue_key == now and locked.customer_name == NAME
        assert [i._asdict() for i in items] == core_row(db, queue_repo.ITEM, transaction_id=txn_id)
        assert [i.service_id for i in items] == [1, 2] and items[0].created_at == now
        with db.write() as s:
            assert queue_repo.items_of(s, 999_999) == []
    finally:
        db.dispose()


def test_save_writes_what_changed_enums_by_value_and_refuses_a_stale_row(mysql_url: str) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    db = Database(mysql_url)
    try:
        admin.load_demo(db)
        now = datetime.now(UTC).replace(tzinfo=None)
        with db.write() as s:
            txn = queue_repo.insert_transaction(
                s,
                {"business_day": now.date(), "code": "A-001", "customer_name": "Ann", "status": "pending_therapist",
                 "queue_key": now, "created_at": now, "total_cents": 0, "total_minutes": 0},
            )  # fmt: skip
        with db.write() as s:
            record = queue_repo.lock_transaction(s, txn.id)
            assert record is not None
            record.status = TxnStatus.THERAPIST_CONFIRMED  # an enum, as a move may leave it
            record.room = NAME
            record.therapist_confirmed_at = now
            queue_repo.save(s, record)
        row = core_row(db, queue_repo.TXN, id=txn.id)[0]
        assert (row["status"], row["room"], row["therapist_confirmed_at"], row["row_version"]) == (
            "therapist_confirmed",
            NAME,
            now,
            2,
        )
        with db.write() as s:
            stale = queue_repo.lock_transaction(s, txn.id)
            assert stale is not None
            stale.__dict__["_loaded"]["row_version"] = stale.row_version = 1  # as if read before the save above
            stale.room = "elsewhere"
            with pytest.raises(StaleDataError):
                queue_repo.save(s, stale)
            stale.__dict__["bogus"] = 1
            with pytest.raises(ValueError, match="bogus"):
                queue_repo.save(s, stale)
    finally:
        db.dispose()


def test_a_claims_facts_about_its_therapist_in_one_query(mysql_url: str) -> None:
    db = Database(mysql_url)
    try:
        people = {p["name"]: p for p in admin.load_demo(db)}
        ben = people["Ben"]["id"]
        with db.write() as s:
            s.execute(Staff.__table__.update().where(Staff.id == ben).values(room=NAME, on_shift=True))
            expected = {k for (k,) in s.execute(select(StaffSkill.service_id).where(StaffSkill.staff_id == ben))}
        with db.write() as s:
            assert roster_repo.room_and_shift(s, ben) == (NAME, True)
            skills, active = roster_repo.skills_against_active(s, ben)
            assert skills == expected and skills < active
            assert roster_repo.room_and_shift(s, 999_999) is None
            # Going off shift in the same transaction is seen by the next question.
            assert roster_repo.set_shift(s, ben, False, datetime.now(UTC).replace(tzinfo=None))
            assert roster_repo.room_and_shift(s, ben) == (NAME, False)
    finally:
        db.dispose()
