"""A job's time zone as the scheduler reads it (contract 7.9).

The 7.9 keys' rules are the job body model's (src/schemas/job_run_settings.py); `timezone` null
evaluates the cron in the scheduler's zone, as before the field existed.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from src.config import Settings


def job_timezone(job: Any, settings: Settings) -> tzinfo:
    """The zone a job's cron is evaluated in: its own, else the scheduler's."""
    name = getattr(job, "timezone", None)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return settings.scheduler_tz
