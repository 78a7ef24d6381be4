"""Crontab expressions as APScheduler 3 triggers, computed by `src.core.cron` (one cron engine).

Validation, preview and firing all ask croniter through `src.core.cron`, so a job fires exactly
when its preview says. APScheduler's own `CronTrigger` is not used for job schedules: it counts
day-of-week 0 as Monday, ANDs a restricted day-of-month with a restricted day-of-week where
crontab ORs them, and steps days in UTC across daylight-saving transitions
(agronholm/apscheduler#529, #606).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from apscheduler.triggers.base import BaseTrigger

from src.core.cron import cron_problem, next_fire


class InvalidCron(ValueError):
    """The expression is not a valid 5-field crontab (see `src.core.cron.cron_problem`)."""


class CronExpressionTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler ships no types
    """Next fire = `src.core.cron.next_fire` from the reference time (inclusive)."""

    __slots__ = ("expression", "timezone")

    def __init__(self, expression: str, timezone: tzinfo) -> None:
        self.expression = expression
        self.timezone = timezone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        start = now
        if previous_fire_time is not None:
            # APScheduler's rule: strictly after the previous fire. In UTC: aware arithmetic in the
            # job's zone is wall-clock arithmetic and drops `fold` (a repeated hour's second pass).
            after_previous = previous_fire_time.astimezone(UTC) + timedelta(microseconds=1)
            start = max(min(now, after_previous), after_previous)
        # Cached per minute in core: the jobs sharing an expression, asked about the same minute
        # (as APScheduler does twice per due job in one pass), cost one croniter step.
        return next_fire(self.expression, self.timezone, start)

    def __str__(self) -> str:
        return f"cron[{self.expression}]"

    def __repr__(self) -> str:
        return f"<CronExpressionTrigger ({self.expression!r}, timezone={self.timezone!s})>"


@lru_cache(maxsize=4096)
def build_trigger(expression: str, tz: tzinfo) -> BaseTrigger:
    """The trigger of a job's schedule; invalid expressions raise `InvalidCron`.

    Cached: a trigger holds no state of its own (APScheduler passes the previous fire time in),
    so jobs with the same expression share one.
    """
    problem = cron_problem(expression)
    if problem is not None:
        raise InvalidCron(problem)
    return CronExpressionTrigger(" ".join(expression.split()), tz)

