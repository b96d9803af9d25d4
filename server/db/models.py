"""The schema as typed SQLAlchemy models. Created and changed only by Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.wire import PaymentMethod

from ..domain.actors import DeviceRole, StaffRole
from ..domain.status import TxnStatus

# Microseconds matter: queue order is by the moment a customer entered the queue.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# MariaDB's BIGINT AUTO_INCREMENT; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

STAFF_ROLES = tuple(r.value for r in StaffRole)
DEVICE_ROLES = tuple(r.value for r in DeviceRole)
PAYMENT_METHODS = tuple(m.value for m in PaymentMethod)


def _in(column: str, values: tuple[str, ...] | list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    pass


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="ck_services_price"),
        CheckConstraint("duration_min > 0", name="ck_services_duration"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    duration_min: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="ck_staff_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    pin_hash: Mapped[str | None] = mapped_column(String(128), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class StaffSession(Base):
    """A screen's sign-in: a token like a staff token, but expiring and revocable on its own."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (CheckConstraint(_in("role", DEVICE_ROLES), name="ck_devices_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    health_json: Mapped[str | None] = mapped_column(Text, default=None)
    # Who scanned their staff badge at this till or room box; commands without a token act for them.
    signed_in_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", name="fk_devices_signed_in_staff"), default=None
    )


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("business_day", "code", name="uq_transactions_day_code"),
        # Serves the claim query: WHERE status = ? ORDER BY queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED.
        Index("ix_transactions_queue", "status", "queue_key", "id"),
        CheckConstraint(_in("status", [s.value for s in TxnStatus]), name="ck_transactions_status"),
        CheckConstraint("total_cents >= 0", name="ck_transactions_total"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_day: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(16))
    customer_name: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(24))
    # The moment the customer entered the queue they are in now; a released claim keeps it,
    # so the customer goes back to their original place.
    queue_key: Mapped[datetime] = mapped_column(Timestamp)
    therapist_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    room: Mapped[str | None] = mapped_column(String(32), default=None)
    cashier_desk: Mapped[str | None] = mapped_column(String(80), default=None)
    # Who holds the current claim ("staff:3", "device:7"): released if they vanish.
    holder: Mapped[str | None] = mapped_column(String(40), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_minutes: Mapped[int] = mapped_column(Integer, default=0)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    therapist_confirmed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    service_started_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    service_finished_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    cashier_claimed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    paid_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)

    __mapper_args__ = {"version_id_col": row_version}


class TransactionItem(Base):
    __tablename__ = "transaction_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_items_quantity"),
        CheckConstraint("unit_price_cents >= 0", name="ck_items_price"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    # Copied when added: a later price change does not rewrite a customer's bill.
    name: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    duration_min: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("method", PAYMENT_METHODS), name="ck_payments_method"),
        CheckConstraint("amount_paid_cents >= amount_due_cents", name="ck_payments_enough"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), unique=True)
    amount_due_cents: Mapped[int] = mapped_column(Integer)
    amount_paid_cents: Mapped[int] = mapped_column(Integer)
    change_cents: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(8))
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class PrintJob(Base):
    """A receipt for a till's printer. 'failed' is the printer's latest word, not the end:
    the till retries it when the printer recovers, and reports 'printed' once. 'unknown': it was
    sent and the printer failed before confirming it; never sent again (the cashier may reprint)."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'printed', 'failed', 'unknown')", name="ck_print_jobs_state"),
        Index("ix_print_jobs_device_state", "device_id", "state"),
    )

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class AuditEntry(Base):
    """Append-only: rows are inserted, never updated or deleted by the application."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(24), default=None)
    to_status: Mapped[str | None] = mapped_column(String(24), default=None)
    actor: Mapped[str] = mapped_column(String(40))
    staff_id: Mapped[int | None] = mapped_column(Integer, default=None)
    device_id: Mapped[int | None] = mapped_column(Integer, default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class DailyCounter(Base):
    __tablename__ = "daily_counters"

    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class QueueState(Base):
    """One row: the queue's version, raised by one in every transaction that changes the queue."""

    __tablename__ = "queue_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    principal: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    result: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    # SHA-256 (hex) of the parsed command without its key: the same key with another payload is
    # refused. NULL on keys stored before migration 0006, which replay as before.
    payload_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class Connection(Base):
    """Live Socket.IO connections of every server process, for releasing a vanished holder's claims."""

    __tablename__ = "connections"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal: Mapped[str] = mapped_column(String(40), index=True)
    process: Mapped[str] = mapped_column(String(80), index=True)
    connected_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    disconnected_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)


class SignInAttempt(Base):
    """Wrong PINs counted per staff member (`staff:<id>`) and per source address (`addr:<ip>`):
    the throttle of docs/SECURITY.md, shared by every server process and kept across restarts."""

    __tablename__ = "sign_in_attempts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None, index=True)
