"""Cron expressions with standard crontab semantics (contract 7.2), one interpretation everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from cron_descriptor import Options, get_description
from croniter import croniter
from croniter.croniter import CroniterBadDateError

from src.core.errors import Invalid

# Re-exported: the core's callers read the rule and its reasons here.
from src.schemas.cron_syntax import BLANK_REASON as BLANK_REASON
from src.schemas.cron_syntax import FIELD_COUNT_REASON as FIELD_COUNT_REASON
from src.schemas.cron_syntax import cron_problem as cron_problem

# How far ahead a next fire is searched before the expression counts as "never fires".
_SEARCH_YEARS = 30


def check_cron(expression: Any) -> str:
    """The trimmed expression, or 400 Invalid cron expression with the reason."""
    problem = cron_problem(expression)
    if problem is not None:
        raise Invalid("Invalid cron expression", problem)
    return " ".join(str(expression).split())


def next_runs(expression: str, tz: tzinfo, count: int, now: datetime | None = None) -> list[datetime]:
    """Up to `count` consecutive fire times from now (inclusive), aware in `tz`."""
    if cron_problem(expression) is not None or count <= 0:
        return []
    start = (now or datetime.now(UTC)).astimezone(tz)
    # croniter's get_next is exclusive; step back a microsecond so a fire at exactly now counts.
    iterator = croniter(" ".join(expression.split()), start - timedelta(microseconds=1),
                        max_years_between_matches=_SEARCH_YEARS)
    runs: list[datetime] = []
    try:
        for _ in range(count):
            runs.append(iterator.get_next(datetime))
    except CroniterBadDateError:
        pass
    return runs


@lru_cache(maxsize=8192)
def _next_fire_cached(expression: str, tz: tzinfo, minute: datetime, exact: bool) -> datetime | None:
    start = minute if exact else minute + timedelta(seconds=30)
    runs = next_runs(expression, tz, 1, start)
    return runs[0] if runs else None


def next_fire(expression: str, tz: tzinfo, now: datetime | None = None) -> datetime | None:
    """The next fire time from now (inclusive), or None when it never fires or doesn't parse.

    Cached per minute: every fire falls on a whole minute, so within one minute (excluding
    its first instant) the answer is the same, and a list of 2,000 jobs costs few parses.
    """
    current = (now or datetime.now(UTC)).astimezone(UTC)
    minute = current.replace(second=0, microsecond=0)
    return _next_fire_cached(" ".join(expression.split()), tz, minute, current == minute)


def last_fire_between(expression: str, tz: tzinfo, after: datetime, until: datetime) -> datetime | None:
    """The latest fire time in (after, until], or None; cheap whatever the gap (croniter get_prev)."""
    if cron_problem(expression) is not None or until <= after:
        return None
    iterator = croniter(" ".join(expression.split()), until.astimezone(tz) + timedelta(microseconds=1),
                        max_years_between_matches=_SEARCH_YEARS)
    try:
        fire: datetime = iterator.get_prev(datetime)
    except CroniterBadDateError:
        return None
    return fire if fire > after else None


def describe(expression: str) -> str:
    """An English summary, reading numeric day-of-week the crontab way (0 = Sunday)."""
    options = Options()
    options.day_of_week_start_index_zero = True
    options.use_24hour_time_format = True
    return str(get_description(" ".join(expression.split()), options))
