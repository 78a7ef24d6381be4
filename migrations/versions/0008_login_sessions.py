"""users.token_version: a password change or deactivation ends every token issued before it.

Tokens carry the version as the `ver` claim; bumping the column makes every older token fail the
per-request check. Login sessions themselves (the `sid` claim) need no table: logging out records
the session id in revoked_tokens.

Revision ID: 0008_login_sessions
Revises: 0007_executions_status_duration
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_login_sessions"
down_revision = "0007_executions_status_duration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_version")
