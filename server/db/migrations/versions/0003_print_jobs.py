"""Print jobs: receipts the server asked a till's printer for, kept until the till reports them printed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("transaction_id", sa.Integer, sa.ForeignKey("transactions.id"), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("state IN ('pending', 'printed', 'failed')", name="ck_print_jobs_state"),
    )
    op.create_index("ix_print_jobs_device_state", "print_jobs", ["device_id", "state"])
    op.create_index("ix_print_jobs_transaction_id", "print_jobs", ["transaction_id"])


def downgrade() -> None:
    op.drop_table("print_jobs")
