"""Seed the default job categories into an empty table (contract 8.9).

Revision ID: 0002_seed_categories
Revises: 0001_initial
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002_seed_categories"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

DEFAULT_CATEGORIES = [
    ("general", "General"),
    ("regression", "Regression"),
    ("dr-testing", "DR Testing"),
    ("feature-testing", "Feature Testing"),
    ("prod-canary", "Prod/Canary"),
    ("refund", "Refund"),
    ("backward-compatibility", "Backward Compatibility"),
]

categories = sa.table(
    "job_categories",
    sa.column("id", sa.String),
    sa.column("slug", sa.String),
    sa.column("name", sa.String),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.execute(sa.select(sa.func.count()).select_from(categories)).scalar():
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        categories,
        [
            {"id": str(uuid.uuid4()), "slug": slug, "name": name, "is_active": True,
             "created_at": now, "updated_at": now}
            for slug, name in DEFAULT_CATEGORIES
        ],
    )


def downgrade() -> None:
    op.execute(categories.delete().where(categories.c.slug.in_([s for s, _ in DEFAULT_CATEGORIES])))
