"""Declarative base with a naming convention, plus the id and clock helpers every model uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names make Alembic autogenerate deterministic across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    """A new UUID4 primary key as a 36-character string."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Now in UTC as a naive datetime: the database stores naive UTC (contract 1.6)."""
    return datetime.now(UTC).replace(tzinfo=None)
