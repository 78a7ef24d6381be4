"""Index users by lower(username): a login attempt finds its account without reading every user.

Revision ID: 0011_users_username_lower
Revises: 0010_shadow_parity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_users_username_lower"
down_revision = "0010_shadow_parity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_users_username_lower", "users", [sa.text("lower(username)")], unique=False)


def downgrade() -> None:
    op.drop_index("ix_users_username_lower", table_name="users")
