"""Sign-in attempts: wrong PINs counted in the database, per staff member and per source address.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "sign_in_attempts",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", TS, nullable=True),
    )
    op.create_index("ix_sign_in_attempts_last_failure_at", "sign_in_attempts", ["last_failure_at"])


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
