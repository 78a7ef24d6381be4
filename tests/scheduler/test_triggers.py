"""Crontab → APScheduler trigger translation agrees with src.core.cron.next_runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from src.core.cron import last_fire_between, next_runs
from src.scheduler.triggers import InvalidCron, build_trigger, fire_times

EXPRESSIONS = [
    "* * * * *", "*/15 9-17 * * 1-5", "0 0 * * 0", "0 0 * * 7", "0 0 * * 5-7", "0 0 * * 0,6",
    "0 0 * * sun-tue", "0 12 * * MON,wed,FRI", "0 0 1,15 * 0", "0 0 13 * 5", "0 0 */2 * 1",
    "0 0 1-31 * 1", "0 0 * jan,mar mon", "30 2 29 2 *", "5/10 * * * *", "0 0 31 * *", "0 9 1 * 1-5",
    "0 0 L * *", "0 0 1,L * *", "0 0 * * 1#2", "0 12 * * L5", "0 0 L * 5", "59 23 * 12 6",
    "0 */6 * * *", "15,45 8-18/2 * * 2-4", "0 0 1 1 *", "0 0 * * 1-5/2",
]
TIMEZONES = ["Asia/Tokyo", "UTC", "America/New_York", "Europe/Berlin"]
STARTS = [datetime(2025, 12, 22, 1, 2, 3, tzinfo=UTC), datetime(2026, 3, 1, 0, 0, tzinfo=UTC)]


@pytest.mark.parametrize("tz_name", TIMEZONES)
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_trigger_fires_exactly_when_next_runs_says(expression: str, tz_name: str) -> None:
    tz = ZoneInfo(tz_name)
    trigger = build_trigger(expression, tz)
    for start in STARTS:
        assert fire_times(trigger, start, 60) == next_runs(expression, tz, 60, start)


def test_sunday_is_zero_and_seven_in_day_of_week() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    start = datetime(2025, 12, 22, tzinfo=UTC)  # a Monday
    for expression in ("0 0 * * 0", "0 0 * * 7", "0 0 * * sun"):
        assert {fire.weekday() for fire in fire_times(build_trigger(expression, tz), start, 5)} == {6}


def test_day_of_month_and_weekday_both_restricted_fire_on_either() -> None:
    trigger = build_trigger("0 0 13 * 5", ZoneInfo("Asia/Tokyo"))
    fires = fire_times(trigger, datetime(2026, 1, 1, tzinfo=UTC), 12)
    assert isinstance(trigger, OrTrigger)
    assert any(f.day == 13 and f.weekday() != 4 for f in fires)
    assert any(f.weekday() == 4 and f.day != 13 for f in fires)


def test_fixed_offset_zone_uses_a_plain_cron_trigger() -> None:
    assert isinstance(build_trigger("*/5 * * * 1-5", ZoneInfo("Asia/Tokyo")), CronTrigger)


def test_invalid_expression_is_refused() -> None:
    with pytest.raises(InvalidCron):
        build_trigger("61 * * * *", ZoneInfo("UTC"))


def test_last_fire_between_finds_the_latest_fire_in_a_long_gap() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    until = datetime(2026, 1, 10, 3, 7, 30, tzinfo=UTC)
    assert last_fire_between("* * * * *", tz, until - timedelta(days=30), until) == until.replace(second=0)
    assert last_fire_between("0 0 1 1 *", tz, until - timedelta(days=2), until) is None


def test_jobs_with_the_same_expression_share_one_trigger() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    assert build_trigger("15 3 * * 1-5", tz) is build_trigger("15 3 * * 1-5", tz)


@pytest.mark.parametrize("expression", ["15 3 * * 1-5", "0 0 13 * 5", "0 0 * * 1#2"])
def test_a_shared_trigger_works_out_the_same_question_once(expression: str, monkeypatch: pytest.MonkeyPatch) -> None:
    trigger = build_trigger(expression, ZoneInfo("Asia/Tokyo"))
    # The class that works answers out: after the trigger's own class and the remembering mixin.
    answering = type(trigger).__mro__[2]
    work_out = answering.get_next_fire_time
    worked_out: list[datetime] = []

    def counting(self, previous, now):  # type: ignore[no-untyped-def]  # wraps APScheduler's untyped method
        worked_out.append(now)
        return work_out(self, previous, now)

    monkeypatch.setattr(answering, "get_next_fire_time", counting)
    now = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    answers = {trigger.get_next_fire_time(None, now) for _job in range(1000)}
    later = trigger.get_next_fire_time(None, now + timedelta(days=40))
    assert len(answers) == 1 and len(worked_out) == 2
    assert later is not None and later > answers.pop()  # type: ignore[operator]  # None here fails the test, as it should
