"""Desk sign-in: the staff member signed in at a till or room box (by scanning a staff badge).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("signed_in_staff_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_devices_signed_in_staff", "staff", ["signed_in_staff_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_constraint("fk_devices_signed_in_staff", type_="foreignkey")
        batch.drop_column("signed_in_staff_id")
