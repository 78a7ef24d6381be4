"""Firing and preview use one cron engine: a job's trigger fires exactly when `next_runs` says.

The corpus covers steps, ranges, lists, names, L/W/#, per-job time zones and the daylight-saving
days of 2026 in zones that observe it; the DST cases are also pinned to fixed instants, so a change
of engine that agreed with itself but moved a fire would still fail here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.base import BaseTrigger

from src.core import cron
from src.core.cron import cron_problem, last_fire_between, next_runs
from src.scheduler.triggers import InvalidCron, build_trigger

EXPRESSIONS = [
    "* * * * *", "*/15 9-17 * * 1-5", "0 0 * * 0", "0 0 * * 7", "0 0 * * 5-7", "0 0 * * 0,6",
    "0 0 * * sun-tue", "0 12 * * MON,wed,FRI", "0 0 1,15 * 0", "0 0 13 * 5", "0 0 */2 * 1",
    "0 0 1-31 * 1", "0 0 * jan,mar mon", "30 2 29 2 *", "5/10 * * * *", "0 0 31 * *", "0 9 1 * 1-5",
    "0 0 L * *", "0 0 1,L * *", "0 0 * * 1#2", "0 12 * * L5", "0 0 L * 5", "59 23 * 12 6",
    "0 */6 * * *", "15,45 8-18/2 * * 2-4", "0 0 1 1 *", "0 0 * * 1-5/2", "0 9 15W * *",
    "30 2 * * *", "30 1 * * *", "*/30 1-3 * * *", "0 * * * *",
]
TIMEZONES = ["Asia/Tokyo", "UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney"]
STARTS = [
    datetime(2025, 12, 22, 1, 2, 3, tzinfo=UTC),
    datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
    # The days before the 2026 transitions: New York springs forward on 8 March and falls back on
    # 1 November, Berlin on 29 March and 25 October, Sydney the other way round (5 April, 4 October).
    datetime(2026, 3, 7, 12, 0, tzinfo=UTC),
    datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
    datetime(2026, 4, 4, 0, 0, tzinfo=UTC),
    datetime(2026, 10, 3, 0, 0, tzinfo=UTC),
    datetime(2026, 10, 24, 12, 0, tzinfo=UTC),
    datetime(2026, 10, 31, 12, 0, tzinfo=UTC),
]


def fire_times(trigger: BaseTrigger, start: datetime, count: int) -> list[datetime]:
    """Up to `count` consecutive fires of `trigger` from `start` (inclusive), asked as APScheduler asks."""
    fires: list[datetime] = []
    previous: datetime | None = None
    now = start
    while len(fires) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        fires.append(fire)
        previous = now = fire
    return fires


@pytest.mark.parametrize("tz_name", TIMEZONES)
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_trigger_fires_exactly_when_next_runs_says(expression: str, tz_name: str) -> None:
    tz = ZoneInfo(tz_name)
    trigger = build_trigger(expression, tz)
    for start in STARTS:
        # Compared as UTC instants: within one zone Python compares wall times and ignores `fold`.
        fires = [fire.astimezone(UTC) for fire in fire_times(trigger, start, 60)]
        assert fires == [run.astimezone(UTC) for run in next_runs(expression, tz, 60, start)]
        assert all(a < b for a, b in zip(fires, fires[1:], strict=False))


NEW_YORK = ZoneInfo("America/New_York")


def _local(*fields: int) -> list[str]:
    return [datetime(*fields[i:i + 5], tzinfo=UTC).isoformat() for i in range(0, len(fields), 5)]


@pytest.mark.parametrize(("expression", "start", "expected"), [
    # Spring forward: 02:30 does not exist on 8 March; the fire moves to 03:00 EDT (07:00 UTC).
    ("30 2 * * *", datetime(2026, 3, 7, 12, tzinfo=UTC), _local(2026, 3, 8, 7, 0, 2026, 3, 9, 6, 30)),
    # Hourly across the gap: 01:00 EST then 03:00 EDT, one real hour apart.
    ("0 * * * *", datetime(2026, 3, 8, 5, 30, tzinfo=UTC), _local(2026, 3, 8, 6, 0, 2026, 3, 8, 7, 0)),
    # Fall back: 01:30 happens twice on 1 November, and croniter fires at both (EDT then EST).
    ("30 1 * * *", datetime(2026, 10, 31, 12, tzinfo=UTC),
     _local(2026, 11, 1, 5, 30, 2026, 11, 1, 6, 30, 2026, 11, 2, 6, 30)),
])
def test_daylight_saving_days_in_new_york(expression: str, start: datetime, expected: list[str]) -> None:
    fires = fire_times(build_trigger(expression, NEW_YORK), start, len(expected))
    assert [fire.astimezone(UTC).isoformat() for fire in fires] == expected
    assert [fire.astimezone(UTC).isoformat() for fire in next_runs(expression, NEW_YORK, len(expected), start)] \
        == expected


@pytest.mark.parametrize("expression", ["@daily", "@hourly", "0 0 * * * *", "61 * * * *", "* * 32 * *", ""])
def test_what_validation_refuses_is_never_scheduled_nor_previewed(expression: str) -> None:
    assert cron_problem(expression) is not None
    assert next_runs(expression, NEW_YORK, 5) == []
    with pytest.raises(InvalidCron):
        build_trigger(expression, NEW_YORK)


def test_sunday_is_zero_and_seven_in_day_of_week() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    start = datetime(2025, 12, 22, tzinfo=UTC)  # a Monday
    for expression in ("0 0 * * 0", "0 0 * * 7", "0 0 * * sun"):
        assert {fire.weekday() for fire in fire_times(build_trigger(expression, tz), start, 5)} == {6}


def test_day_of_month_and_weekday_both_restricted_fire_on_either() -> None:
    fires = fire_times(build_trigger("0 0 13 * 5", ZoneInfo("Asia/Tokyo")), datetime(2026, 1, 1, tzinfo=UTC), 12)
    assert any(f.day == 13 and f.weekday() != 4 for f in fires)
    assert any(f.weekday() == 4 and f.day != 13 for f in fires)


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
def test_a_shared_trigger_works_out_the_same_minute_once(expression: str, monkeypatch: pytest.MonkeyPatch) -> None:
    trigger = build_trigger(expression, ZoneInfo("Asia/Tokyo"))
    worked_out: list[datetime | None] = []
    work_out = cron.next_runs

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]  # passes through whatever core's cache asks
        worked_out.append(args[3] if len(args) > 3 else None)
        return work_out(*args, **kwargs)

    monkeypatch.setattr(cron, "next_runs", counting)
    cron._next_fire_cached.cache_clear()
    now = datetime(2026, 3, 1, 0, 0, 17, tzinfo=UTC)
    answers = {trigger.get_next_fire_time(None, now + timedelta(microseconds=job)) for job in range(1000)}
    later = trigger.get_next_fire_time(None, now + timedelta(days=40))
    assert len(answers) == 1 and len(worked_out) == 2
    assert later is not None and later > answers.pop()  # type: ignore[operator]  # None here fails the test, as it should
