"""users.token_version (token hygiene) and trusted_login_clients (login throttle).

users.token_version: a password change or deactivation ends every token issued before it.
Tokens carry the version as the `ver` claim; bumping the column makes every older token fail the
per-request check. Login sessions themselves (the `sid` claim) need no table: logging out records
the session id in revoked_tokens.

trusted_login_clients: (account, client address) pairs that logged in lately; the throttle exempts
them from the account-wide and address-wide limits (src/core/login_throttle.py).

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
    op.create_table(
        "trusted_login_clients",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_index("ix_trusted_login_clients_last_success_at", "trusted_login_clients", ["last_success_at"])


def downgrade() -> None:
    op.drop_index("ix_trusted_login_clients_last_success_at", table_name="trusted_login_clients")
    op.drop_table("trusted_login_clients")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_version")
