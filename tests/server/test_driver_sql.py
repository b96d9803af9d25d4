"""The claim path's statements sent straight through PyMySQL on MariaDB (server/db/driver.py) read
and write exactly what SQLAlchemy's would: every column, type and awkward value."""

from __future__ import annotations

import json
from collections.abc import Iterator
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


@pytest.fixture
def db(mysql_url: str) -> Iterator[Database]:
    """A MariaDB database of its own with the demo spa in it (this module is MariaDB only)."""
    database = Database(mysql_url)
    try:
        admin.load_demo(database)
        yield database
    finally:
        database.dispose()


@pytest.fixture
def txn_id(db: Database) -> int:
    """A customer waiting, with one item."""
    return _waiting(db, "A-100")


def test_a_transaction_and_its_items_read_as_sqlalchemy_reads_them(db: Database) -> None:
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


def test_save_writes_what_changed_enums_by_value_and_refuses_a_stale_row(db: Database) -> None:
    from sqlalchemy.orm.exc import StaleDataError

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


def _waiting(db: Database, code: str) -> int:
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.write() as s:
        txn = queue_repo.insert_transaction(
            s,
            {"business_day": now.date(), "code": code, "customer_name": NAME, "status": "pending_therapist",
             "queue_key": now, "created_at": now, "total_cents": 4500, "total_minutes": 60},
        )  # fmt: skip
        s.execute(
            insert(TransactionItem).values(
                transaction_id=txn.id, service_id=1, name=NAME, quantity=1, unit_price_cents=4500,
                duration_min=60, added_by="device:1", created_at=now, tax_rate_bp=1900,
            )
        )  # fmt: skip
    return int(txn.id)


def _audit_rows(db: Database, txn_id: int) -> list[dict[str, Any]]:
    from server.db.models import AuditEntry

    return core_row(db, AuditEntry.__table__, transaction_id=txn_id)


def test_a_commands_closing_statements_go_in_one_round_trip_and_write_what_each_would(
    db: Database, txn_id: int
) -> None:
    """`finish` sends the row's change, the audit entry, the items and the version bump as one
    batch: one query on the wire, the same rows written as `save`, `add_audit`, `items_of` and
    `bump_version` one by one write, and the version handed back."""
    with db.read() as s:
        version = queue_repo.current_version(s)
    sent: list[str] = []
    with db.write() as s:
        record = queue_repo.lock_transaction(s, txn_id)
        assert record is not None
        record.status, record.room = TxnStatus.THERAPIST_CONFIRMED, NAME
        audit = {"action": "claimed", "actor": "staff:1", "created_at": datetime(2026, 12, 7, 10, 0),
                 "transaction_id": txn_id, "from_status": "pending_therapist", "to_status": "therapist_confirmed",
                 "staff_id": 1, "detail": {"event": "therapist_confirm_next", "room": NAME}}  # fmt: skip
        connection = s.connection().connection.dbapi_connection
        query = connection.query
        connection.query = lambda sql, *a, **k: (sent.append(sql), query(sql, *a, **k))[1]
        try:
            items, new_version = queue_repo.finish(s, record, audit, bump=True)
        finally:
            connection.query = query
    assert len(sent) == 1 and sent[0].count(";\n") == 3, sent
    assert new_version == version + 1
    assert [(i.service_id, i.name, i.quantity) for i in items] == [(1, NAME, 1)]
    row = core_row(db, queue_repo.TXN, id=txn_id)[0]
    assert (row["status"], row["room"], row["row_version"]) == ("therapist_confirmed", NAME, 2)
    assert record.row_version == 2 and record.changes() == {}
    (entry,) = _audit_rows(db, txn_id)
    assert (entry["action"], entry["to_status"], entry["staff_id"]) == ("claimed", "therapist_confirmed", 1)
    assert json.loads(entry["detail"]) == {"event": "therapist_confirm_next", "room": NAME}
    with db.read() as s:
        assert queue_repo.current_version(s) == version + 1


def test_a_batch_that_fails_part_way_changes_nothing(db: Database, txn_id: int) -> None:
    """A stale row is refused after the batch ran, and a statement that fails mid-batch stops it:
    either way the transaction rolls back, so neither the row, the audit log nor the version moved."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    with db.read() as s:
        version = queue_repo.current_version(s)
    audit = {"action": "claimed", "actor": "staff:1", "created_at": datetime(2026, 12, 7, 10, 0),
             "transaction_id": txn_id, "staff_id": 1}  # fmt: skip
    with pytest.raises(StaleDataError), db.write() as s:
        stale = queue_repo.lock_transaction(s, txn_id)
        assert stale is not None
        stale.__dict__["_loaded"]["row_version"] = stale.row_version = 7  # read before a change we missed
        stale.room = "elsewhere"
        queue_repo.finish(s, stale, audit, bump=True)
    with pytest.raises(IntegrityError), db.write() as s:
        record = queue_repo.lock_transaction(s, txn_id)
        assert record is not None
        record.room = "elsewhere"
        queue_repo.finish(s, record, audit | {"action": None}, bump=True)  # NOT NULL: the second statement fails
    row = core_row(db, queue_repo.TXN, id=txn_id)[0]
    assert (row["room"], row["row_version"]) == (None, 1)
    assert _audit_rows(db, txn_id) == []
    with db.read() as s:
        assert queue_repo.current_version(s) == version


def test_a_connection_lost_under_a_driver_statement_is_unavailable_and_the_next_write_reconnects(
    db: Database,
    txn_id: int,
) -> None:
    """MariaDB drops the connection in the middle of a command (KILL, as a restart would): the
    claim path's next statement fails as DatabaseUnavailable, which the dispatcher answers `busy`,
    not as PyMySQL's own error; and the connection is thrown away, so the next command works."""
    from sqlalchemy import text

    from server.db.engine import DatabaseUnavailable

    def killed_midway(s: Any) -> None:
        (own,) = s.execute(text("SELECT CONNECTION_ID()")).one()
        with db.engine.connect() as other:
            other.exec_driver_sql(f"KILL CONNECTION {int(own)}")
        queue_repo.lock_transaction(s, txn_id)

    with pytest.raises(DatabaseUnavailable):
        db.run_write(killed_midway)
    with db.write() as s:
        assert queue_repo.lock_transaction(s, txn_id) is not None


def test_what_a_batch_carries_from_input_is_data_never_a_statement(db: Database, txn_id: int) -> None:
    """The connection allows several statements per query (for the batch), so a value that tries
    to end one and start another must be stored as typed: a cancel's free-text note goes into the
    audit entry, a room name into the row."""
    hostile = "x'); DELETE FROM audit_log; UPDATE queue_state SET version = 0; -- \\'; \";"
    with db.write() as s:
        record = queue_repo.lock_transaction(s, txn_id)
        assert record is not None
        record.room = room = "3'; DELETE FROM audit_log; --"[: queue_repo.TXN.c.room.type.length]
        audit = {"action": "cancelled", "actor": "staff:1", "created_at": datetime(2026, 12, 7, 11, 0),
                 "transaction_id": txn_id, "detail": {"note": hostile}}  # fmt: skip
        queue_repo.finish(s, record, audit, bump=True)
    assert core_row(db, queue_repo.TXN, id=txn_id)[0]["room"] == room
    (entry,) = _audit_rows(db, txn_id)
    assert json.loads(entry["detail"]) == {"note": hostile}
    with db.read() as s:
        assert queue_repo.current_version(s) > 0
