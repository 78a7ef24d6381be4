"""Crontab expressions as APScheduler 3 triggers, with the same meaning as `src.core.cron`.

APScheduler's `CronTrigger` differs from crontab in two ways that matter here:
- numeric day-of-week: APScheduler counts 0 = Monday, crontab 0 (and 7) = Sunday;
- when both day-of-month and day-of-week are restricted, crontab fires when EITHER matches,
  APScheduler only when BOTH match.
So each field is first expanded by croniter (the parser behind `src.core.cron`), day-of-week
values are rendered as names, and the OR rule becomes an `OrTrigger` of two `CronTrigger`s.
Croniter extensions without a clean APScheduler equivalent (`L` in day-of-week, `#` nth
weekday) use a small trigger that asks croniter directly. So do timezones that observe daylight
saving time: APScheduler 3's CronTrigger adds 24 h in UTC when it steps a day and skips the
first day after a spring-forward transition (agronholm/apscheduler#529, #606).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from croniter import croniter
from croniter.croniter import CroniterBadDateError

from src.core.cron import cron_problem

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_SEARCH_YEARS = 30


class InvalidCron(ValueError):
    """The expression is not a valid 5-field crontab (see `src.core.cron.cron_problem`)."""


class _RemembersLastAnswer:
    """For triggers shared by many jobs: the last answer is kept and given again for the same question.

    When jobs sharing an expression are due together, APScheduler asks their trigger the same
    (previous fire, now) twice per job in one pass: for 1,000 such jobs the cron arithmetic was
    most of the pass, and no fire went out before the pass ended (py-spy, scheduler benchmark).
    """

    _last: tuple[datetime | None, datetime, datetime | None] | None = None

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        last = self._last
        if last is not None and last[1] == now and last[0] == previous_fire_time:
            return last[2]
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)  # type: ignore[misc]  # APScheduler ships no types
        self._last = (previous_fire_time, now, fire)  # one assignment: safe across threads
        return fire


class SharedCronTrigger(_RemembersLastAnswer, CronTrigger):  # type: ignore[misc]  # APScheduler ships no types
    """APScheduler's CronTrigger, remembering its last answer."""


class SharedOrTrigger(_RemembersLastAnswer, OrTrigger):  # type: ignore[misc]  # APScheduler ships no types
    """APScheduler's OrTrigger, remembering its last answer."""


class _CroniterNext(BaseTrigger):  # type: ignore[misc]  # APScheduler ships no types
    """Fallback for croniter-only syntax: next fire = croniter's next match after the reference."""

    __slots__ = ("expression", "timezone")

    def __init__(self, expression: str, timezone: tzinfo) -> None:
        self.expression = expression
        self.timezone = timezone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        start = now
        if previous_fire_time is not None:
            # Same rule as CronTrigger: strictly after the previous fire.
            start = max(min(now, previous_fire_time + timedelta(microseconds=1)),
                        previous_fire_time + timedelta(microseconds=1))
        # croniter is exclusive of its start; step back so a fire at exactly `start` counts.
        iterator = croniter(
            self.expression,
            start.astimezone(self.timezone) - timedelta(microseconds=1),
            max_years_between_matches=_SEARCH_YEARS,
        )
        try:
            fire: datetime = iterator.get_next(datetime)
        except CroniterBadDateError:
            return None
        return fire

    def __str__(self) -> str:
        return f"croniter[{self.expression}]"

    def __repr__(self) -> str:
        return f"<CroniterTrigger ({self.expression!r}, timezone={self.timezone!s})>"


class CroniterTrigger(_RemembersLastAnswer, _CroniterNext):
    """The croniter fallback, remembering its last answer."""


def _render(values: list[Any]) -> str:
    return ",".join(str(v) for v in values)


def _render_days_of_month(values: list[Any]) -> str:
    return ",".join("last" if str(v).lower() == "l" else str(v) for v in values)


def _render_days_of_week(values: list[Any]) -> str:
    return ",".join(_DAY_NAMES[int(v) % 7] for v in values)


def _is_star(values: list[Any]) -> bool:
    return values == ["*"]


def observes_dst(tz: tzinfo) -> bool:
    """Whether `tz` has two UTC offsets this year or next (checked on the 1st of every month)."""
    return _observes_dst(tz, datetime.now().year)


@lru_cache(maxsize=64)
def _observes_dst(tz: tzinfo, first: int) -> bool:
    offsets = {
        datetime(y, month, 1, 12, tzinfo=tz).utcoffset() for y in (first, first + 1) for month in range(1, 13)
    }
    return len(offsets) > 1


@lru_cache(maxsize=4096)
def build_trigger(expression: str, tz: tzinfo) -> BaseTrigger:
    """The trigger that fires exactly when `src.core.cron.next_runs(expression, tz, ...)` does.

    Cached: parsing costs about as much as scheduling, jobs often share an expression, and a
    trigger holds no state of its own (APScheduler passes the previous fire time in), so jobs
    with the same expression share one.
    """
    problem = cron_problem(expression)
    if problem is not None:
        raise InvalidCron(problem)
    normalized = " ".join(expression.split())
    try:
        (minutes, hours, days, months, weekdays), nth_weekdays = croniter.expand(normalized)
    except Exception as exc:  # noqa: BLE001 - croniter raises several types for odd input
        raise InvalidCron(str(exc)) from exc
    if nth_weekdays or any(str(v).lower() == "l" for v in weekdays) or observes_dst(tz):
        return CroniterTrigger(normalized, tz)

    common = {
        "second": "0",
        "minute": _render(minutes),
        "hour": _render(hours),
        "month": _render(months),
        "timezone": tz,
    }
    if not _is_star(days) and not _is_star(weekdays):
        # Crontab's OR rule: a day matches when its day-of-month OR its weekday is listed.
        return SharedOrTrigger([
            CronTrigger(day=_render_days_of_month(days), day_of_week="*", **common),
            CronTrigger(day="*", day_of_week=_render_days_of_week(weekdays), **common),
        ])
    return SharedCronTrigger(
        day=_render_days_of_month(days),
        day_of_week="*" if _is_star(weekdays) else _render_days_of_week(weekdays),
        **common,
    )


def fire_times(trigger: BaseTrigger, start: datetime, count: int) -> list[datetime]:
    """Up to `count` consecutive fires of `trigger` from `start` (inclusive)."""
    runs: list[datetime] = []
    previous: datetime | None = None
    now = start
    while len(runs) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        runs.append(fire)
        previous = now = fire
    return runs
