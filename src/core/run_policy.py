"""A job's failure policy, lateness alert and time zone (contract 7.9): the field rules.

All optional: `failure_threshold` 0/null never pauses, `grace_seconds` null never alerts,
`timezone` null evaluates the cron in the scheduler's zone, as before the fields existed.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from src.config import Settings
from src.core.errors import Invalid
from src.core.request_settings import bounded_int

THRESHOLD_RANGE = (0, 100)
GRACE_RANGE = (1, 86400)

INVALID_THRESHOLD = "Invalid failure_threshold"
INVALID_GRACE = "Invalid grace_seconds"
INVALID_TIMEZONE = "Invalid timezone"


def parse_failure_threshold(value: Any) -> int | None:
    return bounded_int(value, THRESHOLD_RANGE, INVALID_THRESHOLD, "failure_threshold")


def parse_grace(value: Any) -> int | None:
    return bounded_int(value, GRACE_RANGE, INVALID_GRACE, "grace_seconds")


def parse_timezone(value: Any) -> str | None:
    """An IANA zone name (e.g. `America/New_York`); null/blank → None (the scheduler's zone)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip() in available_timezones():
        return value.strip()
    raise Invalid(INVALID_TIMEZONE, "timezone must be an IANA time zone name such as America/New_York.")


_FIELDS = (
    ("failure_threshold", parse_failure_threshold),
    ("grace_seconds", parse_grace),
    ("timezone", parse_timezone),
)


def column_values(payload: dict[str, Any]) -> dict[str, Any]:
    """The policy columns for the keys present in `payload` (rules of 7.9, in order)."""
    return {name: parse(payload[name]) for name, parse in _FIELDS if name in payload}


def job_timezone(job: Any, settings: Settings) -> tzinfo:
    """The zone a job's cron is evaluated in: its own, else the scheduler's."""
    name = getattr(job, "timezone", None)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return settings.scheduler_tz
