"""Cron expressions with standard crontab semantics (contract 7.2), one interpretation everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from cron_descriptor import Options, get_description
from croniter import croniter
from croniter.croniter import CroniterBadDateError

# Re-exported: the core's callers read the rule and its reasons here.
from src.schemas.cron_syntax import BLANK_REASON as BLANK_REASON
from src.schemas.cron_syntax import FIELD_COUNT_REASON as FIELD_COUNT_REASON
from src.schemas.cron_syntax import cron_problem as cron_problem

# How far ahead a next fire is searched before the expression counts as "never fires".
_SEARCH_YEARS = 30


def _croniter_next(normalized: str, tz: tzinfo, start: datetime) -> datetime | None:
    # croniter's get_next is exclusive; step back a microsecond so a fire at exactly `start` counts.
    iterator = croniter(normalized, start.astimezone(tz) - timedelta(microseconds=1),
                        max_years_between_matches=_SEARCH_YEARS)
    try:
        fire: datetime = iterator.get_next(datetime)
    except CroniterBadDateError:
        return None
    return fire


def _first_fire_from(normalized: str, tz: tzinfo, start: datetime) -> datetime | None:
    """The first fire at or after the instant `start`, aware in `tz`; None when it never fires.

    A wall time repeated when clocks go back fires at both of its instants. croniter answers with
    an instant before `start` when `start` lies in the repeated hour's second pass (it reads the
    wall time as the first pass), which would make the scheduler fire the same instant forever:
    there, the rest of the pass is searched at its fixed UTC offset, then the zone after it.
    """
    fire = _croniter_next(normalized, tz, start)
    if fire is None or fire >= start:
        return fire
    local = start.astimezone(tz)
    offset = local.utcoffset()
    if offset is None:
        return fire
    in_pass = _croniter_next(normalized, timezone(offset), start)
    if in_pass is not None and in_pass.astimezone(tz).utcoffset() == offset:
        return in_pass.astimezone(tz)
    # Nothing left in the repeated hour: the first fire after it, when croniter is right again.
    after = start
    while after.astimezone(tz).fold:
        after += timedelta(minutes=1)
    return _croniter_next(normalized, tz, after)


def next_runs(expression: str, tz: tzinfo, count: int, now: datetime | None = None) -> list[datetime]:
    """Up to `count` consecutive fire times from now (inclusive), aware in `tz`.

    Each fire is found afresh from the instant after the previous one, exactly as the scheduler's
    trigger steps (`src.scheduler.triggers`): croniter's own iterator carries state that reads a
    wall time repeated by a daylight-saving change differently, and preview must equal firing.
    """
    if cron_problem(expression) is not None or count <= 0:
        return []
    normalized = " ".join(expression.split())
    start = (now or datetime.now(UTC)).astimezone(UTC)
    runs: list[datetime] = []
    while len(runs) < count:
        fire = _first_fire_from(normalized, tz, start)
        if fire is None:
            break
        runs.append(fire)
        # In UTC: aware arithmetic in `tz` is wall-clock arithmetic and drops `fold`.
        start = fire.astimezone(UTC) + timedelta(microseconds=1)
    return runs


@lru_cache(maxsize=8192)
def _next_fire_cached(expression: str, tz: tzinfo, minute: datetime, exact: bool) -> datetime | None:
    start = minute if exact else minute + timedelta(seconds=30)
    runs = next_runs(expression, tz, 1, start)
    return runs[0] if runs else None


def next_fire(expression: str, tz: tzinfo, now: datetime | None = None) -> datetime | None:
    """The next fire time from now (inclusive), or None when it never fires or doesn't parse.

    Cached per minute: every fire falls on a whole minute, so within one minute (excluding
    its first instant) the answer is the same, and a long job list costs few parses.
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
