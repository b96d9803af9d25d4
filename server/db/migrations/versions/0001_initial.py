"""The queue: catalog, staff, devices, transactions, items, payments, audit log, versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = ("pending_therapist", "therapist_confirmed", "in_service", "awaiting_payment", "paying", "paid", "cancelled")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("price_cents", sa.Integer, nullable=False),
        sa.Column("duration_min", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("price_cents >= 0", name="ck_services_price"),
        sa.CheckConstraint("duration_min > 0", name="ck_services_duration"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("pin_hash", sa.String(128), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(_in("role", ("therapist", "cashier", "admin")), name="ck_staff_role"),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_heartbeat_at", TS, nullable=True),
        sa.Column("health_json", sa.Text, nullable=True),
        sa.CheckConstraint(_in("role", ("kiosk", "cashier", "room", "lobby")), name="ck_devices_role"),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("business_day", sa.Date, nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("customer_name", sa.String(80), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("queue_key", TS, nullable=False),
        sa.Column("therapist_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("cashier_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("room", sa.String(32), nullable=True),
        sa.Column("cashier_desk", sa.String(80), nullable=True),
        sa.Column("holder", sa.String(40), nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.Column("total_minutes", sa.Integer, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("created_by_device_id", sa.Integer, sa.ForeignKey("devices.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("therapist_confirmed_at", TS, nullable=True),
        sa.Column("service_started_at", TS, nullable=True),
        sa.Column("service_finished_at", TS, nullable=True),
        sa.Column("cashier_claimed_at", TS, nullable=True),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.UniqueConstraint("business_day", "code", name="uq_transactions_day_code"),
        sa.CheckConstraint(_in("status", STATUSES), name="ck_transactions_status"),
        sa.CheckConstraint("total_cents >= 0", name="ck_transactions_total"),
    )
    op.create_index("ix_transactions_queue", "transactions", ["status", "queue_key", "id"])
    op.create_table(
        "transaction_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transaction_id", sa.Integer, sa.ForeignKey("transactions.id"), nullable=False),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_cents", sa.Integer, nullable=False),
        sa.Column("duration_min", sa.Integer, nullable=False),
        sa.Column("added_by", sa.String(40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_items_quantity"),
        sa.CheckConstraint("unit_price_cents >= 0", name="ck_items_price"),
    )
    op.create_index("ix_transaction_items_transaction_id", "transaction_items", ["transaction_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transaction_id", sa.Integer, sa.ForeignKey("transactions.id"), nullable=False, unique=True),
        sa.Column("amount_due_cents", sa.Integer, nullable=False),
        sa.Column("amount_paid_cents", sa.Integer, nullable=False),
        sa.Column("change_cents", sa.Integer, nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("cashier_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(_in("method", ("cash", "card")), name="ck_payments_method"),
        sa.CheckConstraint("amount_paid_cents >= amount_due_cents", name="ck_payments_enough"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("transaction_id", sa.Integer, nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=True),
        sa.Column("to_status", sa.String(24), nullable=True),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=True),
        sa.Column("device_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_audit_log_transaction_id", "audit_log", ["transaction_id"])
    op.create_table(
        "daily_counters",
        sa.Column("business_day", sa.Date, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    queue_state = op.create_table(
        "queue_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(queue_state, [{"id": 1, "version": 0}])
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_table(
        "connections",
        sa.Column("sid", sa.String(64), primary_key=True),
        sa.Column("principal", sa.String(40), nullable=False),
        sa.Column("process", sa.String(80), nullable=False),
        sa.Column("connected_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("disconnected_at", TS, nullable=True),
    )
    op.create_index("ix_connections_principal", "connections", ["principal"])
    op.create_index("ix_connections_process", "connections", ["process"])


def downgrade() -> None:
    for table in (
        "connections",
        "idempotency_keys",
        "queue_state",
        "daily_counters",
        "audit_log",
        "payments",
        "transaction_items",
        "transactions",
        "devices",
        "staff",
        "services",
    ):
        op.drop_table(table)
