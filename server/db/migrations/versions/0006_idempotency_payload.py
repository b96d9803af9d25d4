"""Idempotency keys remember a hash of the command they stored, so a key reused with another
payload is refused (`idempotency_mismatch`) instead of replaying the first result.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: keys stored before this revision have no hash and replay as they did.
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("payload_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("payload_hash")
