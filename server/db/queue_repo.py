"""Queries on the queue. Locking lives here: the claim's FOR UPDATE SKIP LOCKED, the row locks
that serialise changes to one transaction, the daily code counter and the queue version."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..domain.actors import StaffRole
from ..domain.status import TxnStatus
from .driver import DriverCursor, RowShape, mariadb_cursor, run_batch, value
from .models import AuditEntry, DailyCounter, IdempotencyKey, QueueState, Service, Staff, Transaction, TransactionItem


def _is_mysql(session: Session) -> bool:
    return session.get_bind().dialect.name in ("mysql", "mariadb")


TXN = Transaction.__table__
ITEM = TransactionItem.__table__
TXN_SHAPE = RowShape(TXN)
ITEM_SHAPE = RowShape(ITEM)
_UPDATABLE = frozenset(TXN_SHAPE.names) - {"id", "row_version"}


class TxnRecord:
    """One transactions row, loaded to be changed: read and set it like an ORM object; `save`
    writes only what changed. Commands use Core statements rather than the ORM's unit of work
    because the claim is the hot path (see docs/PERFORMANCE.md)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)
        self.__dict__["_loaded"] = dict(values)

    def changes(self) -> dict[str, Any]:
        loaded = self.__dict__["_loaded"]
        return {k: v for k, v in self.__dict__.items() if k != "_loaded" and loaded.get(k) != v}

    # Typed views of what every command reads (the rest is reached dynamically).
    id: int
    status: str
    code: str
    row_version: int
    queue_key: datetime
    total_cents: int
    total_minutes: int
    therapist_id: int | None
    cashier_id: int | None
    holder: str | None
    claimed_at: datetime | None
    cashier_desk: str | None
    room: str | None
    created_by_device_id: int | None
    service_started_at: datetime | None
    priority: bool
    priority_reason: str | None
    cancel_reason: str | None
    public_id: str | None


def _record(session: Session, query: Any) -> TxnRecord | None:
    row = session.execute(query).mappings().first()
    return TxnRecord(row) if row is not None else None


def claim_oldest(session: Session, status: TxnStatus) -> TxnRecord | None:
    """Lock and return the oldest transaction in `status`, skipping rows other claimers hold.

    MariaDB: SELECT … ORDER BY queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED over
    ix_transactions_queue. SQLite: the writer already holds the database lock (BEGIN IMMEDIATE),
    so the plain oldest row is ours alone.
    """
    cursor = mariadb_cursor(session)
    if cursor is not None:
        return _fetch_record(cursor, _CLAIM_OLDEST_SQL, (status.value,))
    query = select(TXN).where(TXN.c.status == status.value).order_by(TXN.c.queue_key, TXN.c.id).limit(1)
    return _record(session, query)


_CLAIM_OLDEST_SQL = (
    f"SELECT {TXN_SHAPE.json_object} FROM transactions WHERE status = %s "
    "ORDER BY queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_CALL_ORDER = "ORDER BY priority DESC, queue_key, id"
_CLAIM_NEXT_SQL = (
    f"SELECT {TXN_SHAPE.json_object} FROM transactions WHERE status = 'pending_therapist' "
    f"{_CALL_ORDER} LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_LOCK_WAITING_SQL = (
    f"SELECT {TXN_SHAPE.json_object} FROM transactions WHERE id = %s AND status = 'pending_therapist' "
    "FOR UPDATE SKIP LOCKED"
)
# How many of the first customers a therapist with skills may take are tried, one by one, per
# read, and how many reads before giving up on strict order.
_CANDIDATES = 8
_READS = 20


def _fetch_record(cursor: DriverCursor, sql: str, params: tuple[Any, ...]) -> TxnRecord | None:
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return TxnRecord(TXN_SHAPE.from_json(row[0])) if row is not None else None


def _skilled_candidates_sql(skills: frozenset[int], tail: str = f"LIMIT {_CANDIDATES}") -> str:
    """Waiting customers none of whose items is outside `skills`, in call order; by default the
    first few, read without locking (a consistent read locks nothing)."""
    outside = "SELECT 1 FROM transaction_items i WHERE i.transaction_id = t.id"
    if skills:
        outside += f" AND i.service_id NOT IN ({', '.join(str(int(k)) for k in sorted(skills))})"
    return (
        f"SELECT t.id FROM transactions t WHERE t.status = 'pending_therapist' AND NOT EXISTS ({outside}) "
        f"{_CALL_ORDER} {tail}"
    )


def claim_next_for_therapist(session: Session, skills: frozenset[int] | None) -> TxnRecord | None:
    """Lock and return the customer a therapist calls next: priority first, then first come first
    served, among those all of whose services are in `skills` (None: able to do everything).

    MariaDB, able to do everything: … WHERE status = 'pending_therapist' ORDER BY priority DESC,
    queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED over ix_transactions_call (docs/PROTOCOL.md
    shows the plan). With skills, the rows are not filtered under the lock: InnoDB would lock each
    candidate the skills test then rejects, and for that moment another therapist's SKIP LOCKED
    passes over it, calling someone behind it first (the fault tests' simulated days saw it).
    Instead the first few customers this therapist may take are read without locks, then locked
    one at a time in call order, SKIP LOCKED: a miss means another claim holds or took it.
    """
    cursor = mariadb_cursor(session)
    if cursor is not None:
        if skills is None:
            return _fetch_record(cursor, _CLAIM_NEXT_SQL, ())
        candidates_sql = _skilled_candidates_sql(skills)
        for _ in range(_READS):
            cursor.execute(candidates_sql)
            ids = [row[0] for row in cursor.fetchall()]
            for candidate in ids:
                txn = _fetch_record(cursor, _LOCK_WAITING_SQL, (candidate,))
                if txn is not None:
                    return txn
            if len(ids) < _CANDIDATES:
                return None  # every one this therapist may take is taken or being taken
            # All of the first few were taken meanwhile by other therapists: read again.
        # Still all held (other transactions keep them locked without calling them): the filter
        # under the lock after all, which always ends, if not always in strict order.
        cursor.execute(_skilled_candidates_sql(skills, "LIMIT 1 FOR UPDATE SKIP LOCKED"))
        row = cursor.fetchone()
        return _fetch_record(cursor, _LOCK_WAITING_SQL, (row[0],)) if row is not None else None
    query = select(TXN).where(TXN.c.status == TxnStatus.PENDING_THERAPIST.value)
    if skills is not None:
        outside = select(ITEM.c.id).where(ITEM.c.transaction_id == TXN.c.id)
        if skills:
            outside = outside.where(ITEM.c.service_id.not_in(sorted(skills)))
        query = query.where(~outside.exists())
    query = query.order_by(TXN.c.priority.desc(), TXN.c.queue_key, TXN.c.id).limit(1)
    return _record(session, query)


def lock_waiting(session: Session, transaction_id: int) -> TxnRecord | None:
    """One waiting customer, locked like a claim (SKIP LOCKED): None if it is not waiting or
    another claim holds it this instant."""
    cursor = mariadb_cursor(session)
    if cursor is not None:
        return _fetch_record(cursor, _LOCK_WAITING_SQL, (transaction_id,))
    query = select(TXN).where(TXN.c.id == transaction_id, TXN.c.status == TxnStatus.PENDING_THERAPIST.value)
    return _record(session, query)


def lock_transaction(session: Session, transaction_id: int) -> TxnRecord | None:
    """The transaction, locked until commit, so concurrent changes to it queue up behind us."""
    cursor = mariadb_cursor(session)
    if cursor is not None:
        return _fetch_record(cursor, _LOCK_SQL, (transaction_id,))
    return _record(session, select(TXN).where(TXN.c.id == transaction_id))


_LOCK_SQL = f"SELECT {TXN_SHAPE.json_object} FROM transactions WHERE id = %s FOR UPDATE"


def lock_by_code(session: Session, business_day: date, code: str) -> TxnRecord | None:
    query = select(TXN).where(TXN.c.business_day == business_day, TXN.c.code == code)
    if _is_mysql(session):
        query = query.with_for_update()
    return _record(session, query)


# What a new row holds in the columns an insert leaves out: their scalar defaults, else NULL.
_TXN_DEFAULTS = {c.key: c.default.arg if c.default is not None and c.default.is_scalar else None for c in TXN.c}


def insert_transaction(session: Session, values: dict[str, Any]) -> TxnRecord:
    values = {**values, "row_version": 1}
    new_id = session.execute(insert(TXN).values(**values)).inserted_primary_key[0]
    return TxnRecord(_TXN_DEFAULTS | values | {"id": new_id})


def save(session: Session, txn: TxnRecord) -> None:
    """Write what changed, guarded by the version column: a row changed underneath (possible
    only where there are no row locks) fails here and the command is retried from the start."""
    changes = txn.changes()
    if not changes:
        return
    version = txn.__dict__["_loaded"]["row_version"]
    cursor = mariadb_cursor(session)
    if cursor is not None:
        sql, params = _update_statement(txn, changes)
        rowcount = cursor.execute(sql, params)
    else:
        rowcount = session.execute(
            update(TXN)
            .where(TXN.c.id == txn.id, TXN.c.row_version == version)
            .values(**changes, row_version=version + 1)
        ).rowcount
    _saved(txn, rowcount)


def _update_statement(txn: TxnRecord, changes: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not columns of transactions: {sorted(unknown)}")
    version = txn.__dict__["_loaded"]["row_version"]
    assignments = ", ".join(f"{TXN.c[name].name} = %s" for name in changes)
    params = (*(value(v) for v in changes.values()), version + 1, txn.id, version)
    return f"UPDATE transactions SET {assignments}, row_version = %s WHERE id = %s AND row_version = %s", params


def _saved(txn: TxnRecord, rowcount: int) -> None:
    version = txn.__dict__["_loaded"]["row_version"]
    if rowcount != 1:
        raise StaleDataError(f"transaction {txn.id} changed underneath (version {version})")
    txn.row_version = version + 1
    txn.__dict__["_loaded"] = {k: v for k, v in txn.__dict__.items() if k != "_loaded"}


def finish(session: Session, txn: TxnRecord, audit: AuditFields | None, *, bump: bool) -> tuple[list[Any], int | None]:
    """A command's closing statements on its transaction: what changed of its row (guarded by its
    version, as `save`), its audit entry (`add_audit`'s keywords), its items for the answer, and
    the queue version if asked (last, as `bump_version`). Returns the items and the new version.
    On MariaDB one round trip (`driver.run_batch`), where one after another cost a claim three
    more waits for the database; on SQLite the same statements one by one."""
    cursor = mariadb_cursor(session)
    if cursor is None:
        save(session, txn)
        if audit is not None:
            add_audit(session, **audit)
        items = items_of(session, txn.id)
        return items, bump_version(session) if bump else None
    statements: list[tuple[str, tuple[Any, ...]]] = []
    changes = txn.changes()
    if changes:
        statements.append(_update_statement(txn, changes))
    if audit is not None:
        statements.append((_AUDIT_SQL, _audit_params(audit)))
    statements.append((_ITEMS_SQL, (txn.id,)))
    if bump:
        statements.append((_BUMP_SQL, ()))
    results = run_batch(cursor, statements)
    if changes:
        _saved(txn, results[0].rowcount)
    items_at = -2 if bump else -1
    items = [ItemRow(**ITEM_SHAPE.from_json(row[0])) for row in results[items_at].rows]
    return items, int(results[-1].lastrowid) if bump else None


def add_item(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(ITEM).values(**values))


def remove_item(session: Session, transaction_id: int, item_id: int) -> Any | None:
    """Delete one item of a transaction (its row lock is held); the row as it was, or None."""
    row = session.execute(select(ITEM).where(ITEM.c.id == item_id, ITEM.c.transaction_id == transaction_id)).first()
    if row is not None:
        session.execute(ITEM.delete().where(ITEM.c.id == item_id))
    return row


def item_services(session: Session, ids: list[int]) -> dict[int, tuple[tuple[int, int], ...]]:
    """(service_id, quantity) of each transaction's items: what the estimates need of them."""
    found: dict[int, list[tuple[int, int]]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(ITEM.c.transaction_id, ITEM.c.service_id, ITEM.c.quantity)
            .where(ITEM.c.transaction_id.in_(ids))
            .order_by(ITEM.c.id)
        )
        for txn_id, service_id, quantity in rows:
            found[txn_id].append((service_id, quantity))
    return {i: tuple(v) for i, v in found.items()}


def next_ticket_number(session: Session, business_day: date) -> int:
    """Raise and return the day's counter; its row lock orders concurrent kiosks."""
    table = DailyCounter.__table__
    if _is_mysql(session):
        stmt = mysql.insert(table).values(business_day=business_day, last_number=1)
        stmt = stmt.on_duplicate_key_update(last_number=table.c.last_number + 1)
    else:
        stmt = sqlite.insert(table).values(business_day=business_day, last_number=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.business_day], set_={"last_number": table.c.last_number + 1}
        )
    session.execute(stmt)
    return int(session.scalar(select(DailyCounter.last_number).where(DailyCounter.business_day == business_day)))


def bump_version(session: Session) -> int:
    """Raise the queue version by one. Called last before commit: the row lock is held only
    while committing, and versions are handed out in commit order, without gaps."""
    cursor = mariadb_cursor(session)
    if cursor is not None:
        cursor.execute(_BUMP_SQL)
        return int(cursor.lastrowid)
    return int(
        session.execute(
            text("UPDATE queue_state SET version = version + 1 WHERE id = 1 RETURNING version")
        ).scalar_one()
    )


# LAST_INSERT_ID(expr) hands the new value back in the OK packet: no second round trip.
_BUMP_SQL = "UPDATE queue_state SET version = LAST_INSERT_ID(version + 1) WHERE id = 1"


def current_version(session: Session) -> int:
    return int(session.scalar(select(QueueState.version).where(QueueState.id == 1)))


def items_of(session: Session, transaction_id: int) -> list[Any]:
    """Item rows (attribute access like the model), oldest first."""
    cursor = mariadb_cursor(session)
    if cursor is not None:
        cursor.execute(_ITEMS_SQL, (transaction_id,))
        return [ItemRow(**ITEM_SHAPE.from_json(row[0])) for row in cursor.fetchall()]
    return list(session.execute(select(ITEM).where(ITEM.c.transaction_id == transaction_id).order_by(ITEM.c.id)))


# A row per item, each one JSON column (JSON_ARRAYAGG would make it one row, but costs MariaDB
# a temporary table: ~375 µs of its CPU against ~170 µs, measured with `python -m bench.statements`).
_ITEMS_SQL = f"SELECT {ITEM_SHAPE.json_object} FROM transaction_items WHERE transaction_id = %s ORDER BY id"
ItemRow = namedtuple("ItemRow", ITEM_SHAPE.names)  # type: ignore[misc]  # read like the Core row it stands for


def items_of_many(session: Session, ids: list[int]) -> dict[int, list[TransactionItem]]:
    found: dict[int, list[TransactionItem]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(TransactionItem).where(TransactionItem.transaction_id.in_(ids)).order_by(TransactionItem.id)
    )
    for item in rows:
        found[item.transaction_id].append(item)
    return found


def active_services(session: Session, ids: list[int]) -> dict[int, Service]:
    rows = session.scalars(select(Service).where(Service.id.in_(ids), Service.active.is_(True)))
    return {s.id: s for s in rows}


def staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))
    return {staff_id: name for staff_id, name in rows}


def in_statuses(session: Session, statuses: list[TxnStatus]) -> list[Transaction]:
    return list(
        session.scalars(
            select(Transaction)
            .where(Transaction.status.in_([s.value for s in statuses]))
            .order_by(Transaction.queue_key, Transaction.id)
        )
    )


# What a wait quote needs of a transaction (estimating.quote_live), and nothing else: with
# thousands waiting, whole ORM rows made a kiosk's confirm cost ~240 ms, nearly all of it loading.
QuoteRow = namedtuple(
    "QuoteRow", ("id", "status", "priority", "queue_key", "total_minutes", "therapist_id", "service_started_at")
)
_QUOTE_COLUMNS = [TXN.c[name] for name in QuoteRow._fields]


def quote_rows(session: Session, statuses: list[TxnStatus]) -> list[QuoteRow]:
    """The transactions in `statuses`, queue order, as the few columns a quote reads."""
    query = (
        select(*_QUOTE_COLUMNS).where(TXN.c.status.in_([s.value for s in statuses])).order_by(TXN.c.queue_key, TXN.c.id)
    )
    return [QuoteRow(*row) for row in session.execute(query)]


def any_in_status(session: Session, status: TxnStatus) -> bool:
    return session.execute(select(TXN.c.id).where(TXN.c.status == status.value).limit(1)).first() is not None


def no_shows_since(session: Session, cutoff: datetime) -> list[Transaction]:
    """No-shows still recallable (since `cutoff`), the latest first."""
    return list(
        session.scalars(
            select(Transaction)
            .where(Transaction.status == TxnStatus.NO_SHOW.value, Transaction.no_show_at >= cutoff)
            .order_by(Transaction.no_show_at.desc())
        )
    )


def by_public_id(session: Session, public_id: str) -> Transaction | None:
    return session.scalars(select(Transaction).where(Transaction.public_id == public_id)).first()


def active_therapist_count(session: Session) -> int:
    query = select(func.count()).where(Staff.role == StaffRole.THERAPIST.value, Staff.active.is_(True))
    return int(session.scalar(query) or 0)


class AuditFields(TypedDict):
    """An audit row as `add_audit` and `finish` take it."""

    action: str
    actor: str
    created_at: datetime
    transaction_id: NotRequired[int | None]
    from_status: NotRequired[str | None]
    to_status: NotRequired[str | None]
    staff_id: NotRequired[int | None]
    device_id: NotRequired[int | None]
    detail: NotRequired[dict[str, object] | None]


def add_audit(session: Session, **fields: Unpack[AuditFields]) -> None:
    """Append to the audit log (a plain INSERT: the log is never read back in the same transaction)."""
    params = _audit_params(fields)
    cursor = mariadb_cursor(session)
    if cursor is not None:
        cursor.execute(_AUDIT_SQL, params)
    else:
        session.execute(insert(AuditEntry.__table__).values(**dict(zip(_AUDIT_COLUMNS, params, strict=True))))


def _audit_params(fields: AuditFields) -> tuple[Any, ...]:
    """An audit row's values in `_AUDIT_COLUMNS` order."""
    detail = fields.get("detail")
    row: dict[str, Any] = {**fields, "detail": json.dumps(detail, sort_keys=True) if detail else None}
    return tuple(row.get(column) for column in _AUDIT_COLUMNS)


_AUDIT_COLUMNS = (
    "transaction_id", "action", "from_status", "to_status", "actor", "staff_id", "device_id", "detail", "created_at"
)  # fmt: skip
_AUDIT_SQL = f"INSERT INTO audit_log ({', '.join(_AUDIT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_AUDIT_COLUMNS))})"


def add_idempotency_key(
    session: Session, principal: str, key: str, event: str, result: str, payload_hash: str | None, now: datetime
) -> None:
    session.execute(
        insert(IdempotencyKey.__table__).values(
            principal=principal, key=key, event=event, result=result, payload_hash=payload_hash, created_at=now
        )
    )


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))
