"""The schema as typed SQLAlchemy models. Created and changed only by Alembic migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
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
    # How long it really takes: a moving average of observed services (waits are estimated from
    # it), starting from duration_min; `avg_samples` services observed so far.
    avg_minutes: Mapped[float | None] = mapped_column(Float, default=None)
    avg_samples: Mapped[int] = mapped_column(Integer, default=0)
    # Basis points (1900 = 19 %); copied onto each item when it is added, so a later change of
    # rate (or price) never alters a transaction already made.
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    category: Mapped[str | None] = mapped_column(String(40), default=None)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Room(Base):
    """A treatment room: where a call sends the customer (lobby, ticket, phone page, voice)."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class StaffSkill(Base):
    """A service a therapist can perform: the claim gives them only customers they can serve."""

    __tablename__ = "staff_skills"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)


class Setting(Base):
    """The settings safe to change while running (opening hours, queue limits …), as JSON values;
    anything not here has its default from the environment (server/service/spa_settings.py)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_by: Mapped[str] = mapped_column(String(40))


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
    # On shift: counted for estimated waits, offered as a target for transfers.
    on_shift: Mapped[bool] = mapped_column(Boolean, default=False)
    shift_changed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    # The room a therapist signed in to: where their calls send the customer.
    room: Mapped[str | None] = mapped_column(String(32), default=None)


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
    # A room box's room (its name when none is set).
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", name="fk_devices_room"), default=None)


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("business_day", "code", name="uq_transactions_day_code"),
        UniqueConstraint("public_id", name="uq_transactions_public_id"),
        # Serves the cashier's claim: WHERE status = ? ORDER BY queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED.
        Index("ix_transactions_queue", "status", "queue_key", "id"),
        # Serves the therapist's claim, priority first (docs/PROTOCOL.md shows MariaDB's plan):
        # WHERE status = 'pending_therapist' ORDER BY priority DESC, queue_key, id … SKIP LOCKED.
        Index("ix_transactions_call", "status", text("priority DESC"), "queue_key", "id"),
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
    # Called and did not come (recallable for a while); why it was cancelled.
    no_show_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    # Called before everyone without it (an arrived appointment, a VIP), FIFO among themselves.
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    # The ticket's unguessable id: the phone page /t/<public_id> and the kiosk's proof of a ticket.
    public_id: Mapped[str | None] = mapped_column(String(24), default=None)
    # An order discount as given (percent in basis points, or cents), what it takes off the
    # items' total after their own discounts (worked out again when an item changes), and why.
    discount_kind: Mapped[str | None] = mapped_column(String(8), default=None)
    discount_value: Mapped[int] = mapped_column(Integer, default=0)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    discount_reason: Mapped[str | None] = mapped_column(String(80), default=None)

    __mapper_args__ = {"version_id_col": row_version}


class TransactionItem(Base):
    __tablename__ = "transaction_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_items_quantity"),
        CheckConstraint("unit_price_cents >= 0", name="ck_items_price"),
        # The therapist's claim asks of each candidate "an item outside my skills?": answered from
        # this index alone, per transaction (docs/PROTOCOL.md shows the plan).
        Index("ix_transaction_items_skills", "transaction_id", "service_id"),
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
    tax_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    # A line discount as given (percent in basis points, or an amount in cents), what it takes
    # off unit price × quantity, and why.
    discount_kind: Mapped[str | None] = mapped_column(String(8), default=None)
    discount_value: Mapped[int] = mapped_column(Integer, default=0)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    discount_reason: Mapped[str | None] = mapped_column(String(80), default=None)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("method", (*PAYMENT_METHODS, "split")), name="ck_payments_method"),
        CheckConstraint("amount_paid_cents >= amount_due_cents", name="ck_payments_enough"),
        UniqueConstraint("receipt_number", name="uq_payments_receipt_number"),
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
    # The therapist's tip, paid with the bill (amount_paid covers due + tip + change).
    tip_cents: Mapped[int] = mapped_column(Integer, default=0)
    # Unique and without gaps per till and year (T3-2026-000042); null for a payment without a till.
    receipt_number: Mapped[str | None] = mapped_column(String(32), default=None)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("till_sessions.id", name="fk_payments_session"), default=None
    )


class PaymentTender(Base):
    """How a payment was paid: one row per method (cash, card); change only ever from cash."""

    __tablename__ = "payment_tenders"
    __table_args__ = (
        CheckConstraint(_in("method", PAYMENT_METHODS), name="ck_tenders_method"),
        CheckConstraint("amount_cents >= 0 AND change_cents >= 0", name="ck_tenders_amounts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))
    amount_cents: Mapped[int] = mapped_column(Integer)  # tendered
    change_cents: Mapped[int] = mapped_column(Integer, default=0)


class Refund(Base):
    """Money given back after a payment: an entry of its own (the paid transaction is never
    edited), approved by a manager's PIN, with a number from the till's series."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(_in("method", PAYMENT_METHODS), name="ck_refunds_method"),
        CheckConstraint("amount_cents > 0", name="ck_refunds_amount"),
        UniqueConstraint("receipt_number", name="uq_refunds_receipt_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    receipt_number: Mapped[str | None] = mapped_column(String(32), default=None)
    amount_cents: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(80))
    manager_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), default=None)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("till_sessions.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class RefundItem(Base):
    __tablename__ = "refund_items"

    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("transaction_items.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)


class TillSession(Base):
    """A till's cash drawer from its opening (with a float) to its closing (counted, with its Z
    report). A till takes no cash while it has no open session."""

    __tablename__ = "till_sessions"
    __table_args__ = (Index("ix_till_sessions_device", "device_id", "closed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    opened_at: Mapped[datetime] = mapped_column(Timestamp)
    opened_by: Mapped[str] = mapped_column(String(40))
    float_cents: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(Timestamp, default=None)
    closed_by: Mapped[str | None] = mapped_column(String(40), default=None)
    counted_cash_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    counted_card_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    counted_json: Mapped[str | None] = mapped_column(Text, default=None)  # {denomination: count}


class CashMovement(Base):
    """Cash put into or taken out of a drawer outside a sale (change from the bank, a supplier
    paid from the till), with why."""

    __tablename__ = "cash_movements"
    __table_args__ = (
        CheckConstraint("kind IN ('in', 'out')", name="ck_cash_movements_kind"),
        CheckConstraint("amount_cents > 0", name="ck_cash_movements_amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("till_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(4))
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(80))
    by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class TillReport(Base):
    """An X report (any time) or the Z report (at close) of a session, kept as it was printed."""

    __tablename__ = "till_reports"
    __table_args__ = (CheckConstraint("kind IN ('x', 'z')", name="ck_till_reports_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("till_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(1))
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    body: Mapped[str] = mapped_column(Text)  # JSON, as printed


class DocumentCounter(Base):
    """Receipt and refund numbers: one series per till and year, raised under its row lock in
    the transaction that uses the number, so the series has no gaps."""

    __tablename__ = "document_counters"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class PrintJob(Base):
    """A receipt, or another document (a refund or void slip, a cash movement, an X or Z
    report), for a till's printer. 'failed' is the printer's latest word, not the end: the till
    retries it when the printer recovers, and reports 'printed' once. 'unknown': it was sent and
    the printer failed before confirming it; never sent again (the cashier may reprint)."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'printed', 'failed', 'unknown')", name="ck_print_jobs_state"),
        CheckConstraint("kind IN ('receipt', 'document')", name="ck_print_jobs_kind"),
        Index("ix_print_jobs_device_state", "device_id", "state"),
    )

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    kind: Mapped[str] = mapped_column(String(12), default="receipt")
    # None for a document about no one visit (a cash movement, a report).
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"), index=True, default=None)
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
