"""Time rules of the contract: naive UTC storage, `…sssZ` instants (`src.time_text`), scheduler-local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from src.models.base import utcnow
from src.time_text import format_local, format_utc

__all__ = ["format_local", "format_utc", "local_today", "to_naive_utc", "utcnow"]


def to_naive_utc(value: datetime) -> datetime:
    """An aware datetime converted to naive UTC; a naive one is taken as UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def local_today(tz: tzinfo, now: datetime | None = None) -> date:
    """Today's date in the scheduler timezone."""
    current = now or datetime.now(UTC)
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    return current.astimezone(tz).date()


