"""The operator's deployment phase (side-by-side / cutover), read by every process.

Revision ID: 0004_deployment_phase
Revises: 0003_job_deletions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_deployment_phase"
down_revision = "0003_job_deletions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_phase",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deployment_phase")),
    )


def downgrade() -> None:
    op.drop_table("deployment_phase")
