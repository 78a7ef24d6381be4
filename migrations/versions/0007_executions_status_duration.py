"""Index executions by (status, duration_seconds): all-time statistics read the index, not the table.

Revision ID: 0007_executions_status_duration
Revises: 0006_notifications_created_at
"""

from __future__ import annotations

from alembic import op

revision = "0007_executions_status_duration"
down_revision = "0006_notifications_created_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_executions", schema=None) as batch_op:
        batch_op.create_index("ix_job_executions_status_duration_seconds", ["status", "duration_seconds"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_job_executions_status_duration_seconds")
