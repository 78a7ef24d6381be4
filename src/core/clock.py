"""Time rules of the contract: naive UTC storage, `…sssZ` instants, scheduler-local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from src.models.base import utcnow

__all__ = ["format_local", "format_utc", "local_today", "to_naive_utc", "utcnow"]


def format_utc(value: datetime | None) -> str | None:
    """ISO 8601 UTC with millisecond precision and a `Z` suffix (naive values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # Not strftime: its %Y drops leading zeros for years below 1000 on glibc ("1-01-02T...").
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def format_local(value: datetime | None, tz: tzinfo) -> str | None:
    """ISO 8601 in the scheduler timezone with a numeric offset, second precision."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz).replace(microsecond=0).isoformat()


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


