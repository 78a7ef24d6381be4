"""Index notifications by age, so the retention prune finds old rows without scanning the table.

Revision ID: 0006_notifications_created_at
Revises: 0005_login_failures
"""

from __future__ import annotations

from alembic import op

revision = "0006_notifications_created_at"
down_revision = "0005_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_created_at")
