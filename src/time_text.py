"""Instants as the contract writes them (1.6): below core and schemas, which both format times."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


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
