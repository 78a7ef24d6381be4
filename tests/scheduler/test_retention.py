"""The leader's daily retention prune: registered, not counted, batched in transactions, never fatal.

Runs on SQLite by default and on PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from src.models import Job, JobExecution, Notification, User, utcnow
from src.scheduler.retention import RETENTION_JOB_ID, run_retention_prune
from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.services import ExecutionServices
from tests.conftest import Factory
from tests.scheduler.conftest import fire_soon, wait_until

pytestmark = pytest.mark.anyio

OLD = timedelta(days=400)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"RETENTION_BATCH_SIZE": 3, "RETENTION_TIME": "04:42",
            "EXECUTION_RETENTION_DAYS": 180, "NOTIFICATION_RETENTION_DAYS": 90}


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


@pytest.fixture
def job(factory: Factory, owner: User) -> Job:
    return factory.job(owner)


def _count(db: Session, model: type) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def _seed_ten_old_and_a_newest(factory: Factory, job: Job) -> None:
    now = utcnow()
    for day in range(10):
        factory.execution(job, started_at=now - OLD - timedelta(days=day))
    factory.execution(job, started_at=now)


async def test_ten_old_rows_with_batch_size_three_are_removed_in_four_committed_batches(
    services: ExecutionServices, db: Session, factory: Factory, job: Job
) -> None:
    _seed_ten_old_and_a_newest(factory, job)
    commits: list[object] = []
    event.listen(services.engine.sync_engine, "commit", commits.append)
    counts = await run_retention_prune(services, pause=0)
    assert counts is not None
    # One transaction finds no old notification, then 3 + 3 + 3 + 1 executions, then one (empty)
    # each for expired revocations and tombstones.
    assert (counts.executions, counts.batches) == (10, 7)
    assert len(commits) == 7
    assert _count(db, JobExecution) == 1


async def test_old_notifications_are_removed_alongside(
    services: ExecutionServices, db: Session, factory: Factory, owner: User
) -> None:
    for _ in range(4):
        factory.notification(owner, created_at=utcnow() - timedelta(days=91))
    factory.notification(owner)
    counts = await run_retention_prune(services, pause=0)
    assert counts is not None and counts.notifications == 4
    assert _count(db, Notification) == 1


async def test_prune_stops_when_the_lease_is_lost(
    services: ExecutionServices, db: Session, factory: Factory, job: Job
) -> None:
    _seed_ten_old_and_a_newest(factory, job)
    counts = await run_retention_prune(services, keep_going=lambda: False, pause=0)
    assert counts is not None and counts.batches == 0
    assert _count(db, JobExecution) == 11


async def test_a_failing_prune_is_logged_and_returns_none(
    services: ExecutionServices, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    db.execute(text("DROP TABLE notifications"))
    db.commit()
    assert await run_retention_prune(services, pause=0) is None
    assert "retention prune failed" in caplog.text


async def test_retention_job_is_registered_daily_at_retention_time_and_not_counted(
    services: ExecutionServices, factory: Factory, job: Job
) -> None:
    runtime = SchedulerRuntime(services)
    await runtime.start()
    try:
        prune_job = runtime.scheduler.get_job(RETENTION_JOB_ID)  # type: ignore[union-attr]  # None here fails the test, as it should
        first = prune_job.next_run_time
        second = prune_job.trigger.get_next_fire_time(first, first + timedelta(seconds=1))
        count = runtime.scheduled_jobs_count()
        ids = runtime.scheduled_ids()
    finally:
        await runtime.stop()
    local = first.astimezone(services.settings.scheduler_tz)
    assert (local.hour, local.minute) == (4, 42)
    assert second - first == timedelta(days=1)
    assert (count, ids) == (1, {job.id})


async def test_reconciliation_keeps_the_retention_job(services: ExecutionServices, factory: Factory, job: Job) -> None:
    runtime = SchedulerRuntime(services)
    await runtime.start()
    try:
        result = await runtime.full_reconcile()
        kept = runtime.scheduler.get_job(RETENTION_JOB_ID) is not None  # type: ignore[union-attr]  # None here fails the test, as it should
    finally:
        await runtime.stop()
    assert kept
    assert (result.orphaned_removed, result.scheduled_now) == (0, 1)


async def test_the_leader_runs_the_prune_when_it_is_due(
    services: ExecutionServices, db: Session, factory: Factory, job: Job
) -> None:
    _seed_ten_old_and_a_newest(factory, job)
    runtime = SchedulerRuntime(services)
    await runtime.start()
    try:
        fire_soon(runtime, RETENTION_JOB_ID)
        await wait_until(lambda: _count(db, JobExecution) == 1)
        missed = runtime.missed_fires
    finally:
        await runtime.stop()
    assert missed == 0
