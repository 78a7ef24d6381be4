"""Declarative base with a naming convention, plus the id and clock helpers every model uses."""

from __future__ import annotations

import os
import time
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
    """A new primary key: a time-ordered UUID (version 7, RFC 9562) as a 36-character string.

    Its first 48 bits are the Unix time in milliseconds, so rows created later sort after earlier
    ones (as text too) and an insert lands at the end of the primary-key index instead of on a
    random page: a job create's 20 notification rows touched 20 random pages with random ids
    (docs/PERFORMANCE.md). The other 74 bits are random.
    """
    milliseconds = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    rand_a, rand_b = random_bits >> 68, random_bits & ((1 << 62) - 1)
    value = (milliseconds & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def utcnow() -> datetime:
    """Now in UTC as a naive datetime: the database stores naive UTC (contract 1.6)."""
    return datetime.now(UTC).replace(tzinfo=None)
