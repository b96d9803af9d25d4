"""The till: taxes per service and item, discounts, tips, split tenders, receipt numbers per till
and year, refunds, cash drawer sessions with cash movements and X/Z reports, print jobs that are
not receipts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql", "mariadb")


DISCOUNT_COLUMNS = ("discount_kind", "discount_value", "discount_cents", "discount_reason")


def _discount_columns(batch: object) -> None:
    batch.add_column(sa.Column("discount_kind", sa.String(8), nullable=True))  # type: ignore[attr-defined]
    batch.add_column(sa.Column("discount_value", sa.Integer, nullable=False, server_default="0"))  # type: ignore[attr-defined]
    batch.add_column(sa.Column("discount_cents", sa.Integer, nullable=False, server_default="0"))  # type: ignore[attr-defined]
    batch.add_column(sa.Column("discount_reason", sa.String(80), nullable=True))  # type: ignore[attr-defined]


def upgrade() -> None:
    op.create_table(
        "till_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("opened_at", Timestamp, nullable=False),
        sa.Column("opened_by", sa.String(40), nullable=False),
        sa.Column("float_cents", sa.Integer, nullable=False),
        sa.Column("closed_at", Timestamp, nullable=True),
        sa.Column("closed_by", sa.String(40), nullable=True),
        sa.Column("counted_cash_cents", sa.Integer, nullable=True),
        sa.Column("counted_card_cents", sa.Integer, nullable=True),
        sa.Column("counted_json", sa.Text, nullable=True),
    )
    op.create_index("ix_till_sessions_device", "till_sessions", ["device_id", "closed_at"])
    op.create_table(
        "cash_movements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("till_sessions.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("by", sa.String(40), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("kind IN ('in', 'out')", name="ck_cash_movements_kind"),
        sa.CheckConstraint("amount_cents > 0", name="ck_cash_movements_amount"),
    )
    op.create_table(
        "till_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("till_sessions.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('x', 'z')", name="ck_till_reports_kind"),
    )
    op.create_table(
        "document_counters",
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("tax_rate_bp", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("category", sa.String(40), nullable=True))
        batch.add_column(sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("transaction_items") as batch:
        batch.add_column(sa.Column("tax_rate_bp", sa.Integer, nullable=False, server_default="0"))
        _discount_columns(batch)
    with op.batch_alter_table("transactions") as batch:
        _discount_columns(batch)
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("tip_cents", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("receipt_number", sa.String(32), nullable=True))
        batch.add_column(sa.Column("session_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_payments_session", "till_sessions", ["session_id"], ["id"])
        batch.create_unique_constraint("uq_payments_receipt_number", ["receipt_number"])
        batch.drop_constraint("ck_payments_method", type_="check")
        batch.create_check_constraint("ck_payments_method", "method IN ('cash', 'card', 'split')")
    op.create_table(
        "payment_tenders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=False, index=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("change_cents", sa.Integer, nullable=False),
        sa.CheckConstraint("method IN ('cash', 'card')", name="ck_tenders_method"),
        sa.CheckConstraint("amount_cents >= 0 AND change_cents >= 0", name="ck_tenders_amounts"),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("transaction_id", sa.Integer, sa.ForeignKey("transactions.id"), nullable=False, index=True),
        sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("receipt_number", sa.String(32), nullable=True),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("manager_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("cashier_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id"), nullable=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("till_sessions.id"), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("method IN ('cash', 'card')", name="ck_refunds_method"),
        sa.CheckConstraint("amount_cents > 0", name="ck_refunds_amount"),
        sa.UniqueConstraint("receipt_number", name="uq_refunds_receipt_number"),
    )
    op.create_table(
        "refund_items",
        sa.Column("refund_id", sa.Integer, sa.ForeignKey("refunds.id"), primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("transaction_items.id"), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
    )
    # Every payment so far had one tender, its own method.
    op.execute(
        "INSERT INTO payment_tenders (payment_id, method, amount_cents, change_cents) "
        "SELECT id, method, amount_paid_cents, change_cents FROM payments"
    )
    with op.batch_alter_table("print_jobs") as batch:
        batch.add_column(sa.Column("kind", sa.String(12), nullable=False, server_default="receipt"))
        batch.alter_column("transaction_id", existing_type=sa.Integer, nullable=True)
        batch.create_check_constraint("ck_print_jobs_kind", "kind IN ('receipt', 'document')")


def downgrade() -> None:
    op.execute("DELETE FROM print_jobs WHERE kind <> 'receipt'")
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_constraint("ck_print_jobs_kind", type_="check")
        batch.alter_column("transaction_id", existing_type=sa.Integer, nullable=False)
        batch.drop_column("kind")
    op.drop_table("refund_items")
    op.drop_table("refunds")
    op.drop_table("payment_tenders")
    op.execute("UPDATE payments SET method = 'card' WHERE method = 'split'")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("ck_payments_method", type_="check")
        batch.create_check_constraint("ck_payments_method", "method IN ('cash', 'card')")
        batch.drop_constraint("uq_payments_receipt_number", type_="unique")
        batch.drop_constraint("fk_payments_session", type_="foreignkey")
        for column in ("session_id", "receipt_number", "tip_cents"):
            batch.drop_column(column)
    with op.batch_alter_table("transactions") as batch:
        for column in DISCOUNT_COLUMNS:
            batch.drop_column(column)
    with op.batch_alter_table("transaction_items") as batch:
        for column in (*DISCOUNT_COLUMNS, "tax_rate_bp"):
            batch.drop_column(column)
    with op.batch_alter_table("services") as batch:
        for column in ("sort_order", "category", "tax_rate_bp"):
            batch.drop_column(column)
    op.drop_table("document_counters")
    op.drop_table("till_reports")
    op.drop_table("cash_movements")
    op.drop_table("till_sessions")  # and its index (MariaDB will not drop one a foreign key uses)
