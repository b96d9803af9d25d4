"""The front desk's day: rooms, skills and shifts, priority, no-shows, cancel reasons, tickets with
an unguessable id, observed service durations, and the settings changed while running.

Existing therapists are put on shift and given every existing service, so a spa upgrading keeps
the queue it had (everyone can serve everyone) until the owner sets skills and shifts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql", "mariadb")
OLD_STATUSES = (
    "pending_therapist",
    "therapist_confirmed",
    "in_service",
    "awaiting_payment",
    "paying",
    "paid",
    "cancelled",
)
STATUSES = (*OLD_STATUSES, "no_show")
OLD_ROLES = ("therapist", "cashier", "admin")
ROLES = ("therapist", "cashier", "desk", "admin")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False, unique=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("sort_order", sa.Integer, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "staff_skills",
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), primary_key=True),
        sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), primary_key=True),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(40), nullable=False),
    )
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("avg_minutes", sa.Float, nullable=True))
        batch.add_column(sa.Column("avg_samples", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("on_shift", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("shift_changed_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("room", sa.String(32), nullable=True))
        batch.drop_constraint("ck_staff_role", type_="check")
        batch.create_check_constraint("ck_staff_role", _in("role", ROLES))
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("room_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_devices_room", "rooms", ["room_id"], ["id"])
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("no_show_at", Timestamp, nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("priority", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("priority_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("public_id", sa.String(24), nullable=True))
        batch.create_unique_constraint("uq_transactions_public_id", ["public_id"])
        batch.drop_constraint("ck_transactions_status", type_="check")
        batch.create_check_constraint("ck_transactions_status", _in("status", STATUSES))
    op.create_index("ix_transactions_call", "transactions", ["status", sa.text("priority DESC"), "queue_key", "id"])
    op.create_index("ix_transaction_items_skills", "transaction_items", ["transaction_id", "service_id"])
    # Everyone keeps serving everyone, and is counted, until skills and shifts are set.
    op.execute("UPDATE staff SET on_shift = 1 WHERE role = 'therapist' AND active = 1")
    op.execute(
        "INSERT INTO staff_skills (staff_id, service_id) "
        "SELECT staff.id, services.id FROM staff, services WHERE staff.role = 'therapist'"
    )


def downgrade() -> None:
    op.drop_index("ix_transaction_items_skills", table_name="transaction_items")
    op.drop_index("ix_transactions_call", table_name="transactions")
    op.execute("UPDATE transactions SET status = 'cancelled' WHERE status = 'no_show'")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_constraint("ck_transactions_status", type_="check")
        batch.create_check_constraint("ck_transactions_status", _in("status", OLD_STATUSES))
        batch.drop_constraint("uq_transactions_public_id", type_="unique")
        for column in ("public_id", "priority_reason", "priority", "cancel_reason", "no_show_at"):
            batch.drop_column(column)
    with op.batch_alter_table("devices") as batch:
        batch.drop_constraint("fk_devices_room", type_="foreignkey")
        batch.drop_column("room_id")
    op.execute("UPDATE staff SET role = 'cashier' WHERE role = 'desk'")
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("ck_staff_role", type_="check")
        batch.create_check_constraint("ck_staff_role", _in("role", OLD_ROLES))
        batch.drop_column("room")
        batch.drop_column("shift_changed_at")
        batch.drop_column("on_shift")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("avg_samples")
        batch.drop_column("avg_minutes")
    op.drop_table("settings")
    op.drop_table("staff_skills")
    op.drop_table("rooms")
