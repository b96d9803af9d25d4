"""Print jobs: the state 'unknown', for a receipt the till sent and could not confirm (issue 13).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_constraint("ck_print_jobs_state", type_="check")
        batch.create_check_constraint("ck_print_jobs_state", "state IN ('pending', 'printed', 'failed', 'unknown')")


def downgrade() -> None:
    op.execute("UPDATE print_jobs SET state = 'failed' WHERE state = 'unknown'")
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_constraint("ck_print_jobs_state", type_="check")
        batch.create_check_constraint("ck_print_jobs_state", "state IN ('pending', 'printed', 'failed')")
