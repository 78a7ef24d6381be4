"""Per-job request settings (method, headers, body, timeout, retries, signing), failure policy,
lateness and time zone, and run details.

Revision ID: 0009_job_request_settings
Revises: 0008_login_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_job_request_settings"
down_revision = "0008_login_sessions"
branch_labels = None
depends_on = None


def _job_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("http_method", sa.String(length=10), nullable=True),
        sa.Column("http_headers", sa.Text(), nullable=True),
        sa.Column("request_body", sa.Text(), nullable=True),
        sa.Column("timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("max_retries", sa.Integer(), nullable=True),
        sa.Column("retry_backoff_seconds", sa.Integer(), nullable=True),
        sa.Column("signing_secret", sa.Text(), nullable=True),
        sa.Column("failure_threshold", sa.Integer(), nullable=True),
        sa.Column("grace_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("late_alert_for", sa.DateTime(), nullable=True),
    )


def _execution_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("attempts", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
    )


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        for column in _job_columns():
            batch_op.add_column(column)
    with op.batch_alter_table("job_executions", schema=None) as batch_op:
        for column in _execution_columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("job_executions", schema=None) as batch_op:
        for column in reversed(_execution_columns()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        for column in reversed(_job_columns()):
            batch_op.drop_column(column.name)
