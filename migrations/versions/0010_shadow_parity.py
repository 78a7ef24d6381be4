"""Shadow-read results per route: hourly counts and the distinct differences with redacted samples.

Revision ID: 0010_shadow_parity
Revises: 0009_job_request_settings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_shadow_parity"
down_revision = "0009_job_request_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parity_counts",
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("mismatched", sa.Integer(), nullable=False),
        sa.Column("raced", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("route", "hour", name=op.f("pk_parity_counts")),
    )
    with op.batch_alter_table("parity_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parity_counts_hour"), ["hour"], unique=False)
    op.create_table(
        "parity_differences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("paths", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("samples", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parity_differences")),
        sa.UniqueConstraint("route", "signature", name=op.f("uq_parity_differences_route_signature")),
    )
    with op.batch_alter_table("parity_differences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parity_differences_last_seen"), ["last_seen"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("parity_differences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parity_differences_last_seen"))
    op.drop_table("parity_differences")
    with op.batch_alter_table("parity_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parity_counts_hour"))
    op.drop_table("parity_counts")
