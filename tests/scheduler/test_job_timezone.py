"""A job's own time zone (contract 7.9): its cron is evaluated there, across DST changes.

Time is the tests' own: the registered trigger is asked for its next fire from chosen instants
(as APScheduler asks it), around New York's 2026 spring-forward (8 March) and fall-back (1 Nov).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from src.core.job_views import job_view
from src.models import User
from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.services import ExecutionServices
from tests.conftest import Factory

pytestmark = pytest.mark.anyio


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def _registered_trigger(services: ExecutionServices, job_id: str):  # type: ignore[no-untyped-def]  # returns APScheduler's untyped trigger
    runtime = SchedulerRuntime(services)
    await runtime.start()
    try:
        assert runtime.scheduler is not None
        return runtime.scheduler.get_job(job_id).trigger
    finally:
        await runtime.stop()


@pytest.mark.parametrize(("now", "fire"), [
    (_utc(2026, 3, 7, 15), _utc(2026, 3, 8, 13)),   # 09:00 EST on the 7th passed; the 8th is EDT
    (_utc(2026, 3, 6, 12), _utc(2026, 3, 6, 14)),   # before the change: 09:00 EST = 14:00 UTC
    (_utc(2026, 10, 31, 14), _utc(2026, 11, 1, 14)),  # 09:00 EDT on the 31st passed; the 1st is EST
])
async def test_a_new_york_job_fires_at_nine_local_across_dst(
    services: ExecutionServices, factory: Factory, owner: User, now: datetime, fire: datetime
) -> None:
    job = factory.job(owner, cron_expression="0 9 * * *", timezone="America/New_York")
    trigger = await _registered_trigger(services, job.id)
    assert trigger.get_next_fire_time(None, now) == fire


async def test_a_job_without_a_zone_fires_in_the_scheduler_zone(
    services: ExecutionServices, factory: Factory, owner: User
) -> None:
    job = factory.job(owner, cron_expression="0 9 * * *")
    trigger = await _registered_trigger(services, job.id)
    assert trigger.get_next_fire_time(None, _utc(2026, 3, 7, 15)) == _utc(2026, 3, 8, 0)  # 09:00 JST


def test_next_execution_at_is_the_utc_instant_across_dst(factory: Factory, owner: User) -> None:
    job = factory.job(owner, cron_expression="0 9 * * *", timezone="America/New_York")
    rendered = job_view(job, None, factory.settings, now=_utc(2026, 3, 7, 15))
    assert rendered["next_execution_at"] == "2026-03-08T13:00:00.000Z"
