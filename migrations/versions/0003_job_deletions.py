"""Tombstones of deleted jobs, read by the scheduler's incremental sync (contract 8.9).

Revision ID: 0003_job_deletions
Revises: 0002_seed_categories
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_job_deletions"
down_revision = "0002_seed_categories"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_deletions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_deletions")),
    )
    with op.batch_alter_table("job_deletions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_deletions_deleted_at"), ["deleted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_deletions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_deletions_deleted_at"))
    op.drop_table("job_deletions")
