"""The leader's APScheduler runtime: real fires through APScheduler to a loopback receiver."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from src.core.scheduler_sync import INTERRUPTED_MESSAGE, record_job_deletion
from src.models import Job, JobExecution, Notification, User
from src.scheduler.maintenance import MAINTENANCE_JOB_ID
from src.scheduler.runtime import SchedulerRuntime
from src.scheduler.schedule_sync import APPLY_SLICE
from src.scheduler.services import ExecutionServices
from tests.conftest import Factory
from tests.scheduler.conftest import InstantsTrigger, fire_soon, wait_until
from tests.scheduler.conftest import TimedReceiver as Receiver

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SCHEDULER_MISFIRE_GRACE_SECONDS": 60, "SCHEDULER_MAX_CONCURRENT_RUNS": 50}


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user("user")


def _executions(db: Session, job: Job | None = None) -> list[JobExecution]:
    db.expire_all()
    query = select(JobExecution)
    if job is not None:
        query = query.where(JobExecution.job_id == job.id)
    return list(db.scalars(query))


async def _started(services: ExecutionServices, **options: Any) -> SchedulerRuntime:
    runtime = SchedulerRuntime(services, **options)
    await runtime.start()
    return runtime


async def test_scheduled_job_fires_and_records_trigger_type_and_fire_time(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    job = factory.job(owner, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/a")
    runtime = await _started(services)
    try:
        at = fire_soon(runtime, job.id)
        await wait_until(lambda: [e for e in _executions(db, job) if e.status != "running"])
    finally:
        await runtime.stop()
    [execution] = _executions(db, job)
    assert len(receiver.to("/hook/a")) == 1
    assert (execution.trigger_type, execution.status) == ("scheduled", "success")
    assert execution.scheduled_for == at.replace(tzinfo=None)


async def test_registered_schedule_uses_the_job_cron_in_the_scheduler_timezone(
    services: ExecutionServices, factory: Factory, owner: User
) -> None:
    job = factory.job(owner, cron_expression="30 9 * * 1-5")
    runtime = await _started(services)
    try:
        scheduled = runtime.scheduler.get_job(job.id)  # type: ignore[union-attr]  # None here fails the test, as it should
        local = scheduled.next_run_time.astimezone(services.settings.scheduler_tz)
    finally:
        await runtime.stop()
    assert scheduled.name == job.name
    assert (local.hour, local.minute, local.weekday() < 5) == (9, 30, True)


async def test_maintenance_job_runs_mondays_at_nine_and_is_not_counted(
    services: ExecutionServices, factory: Factory, owner: User
) -> None:
    factory.job(owner)
    runtime = await _started(services)
    try:
        maintenance = runtime.scheduler.get_job(MAINTENANCE_JOB_ID)  # type: ignore[union-attr]  # None here fails the test, as it should
        local = maintenance.next_run_time.astimezone(services.settings.scheduler_tz)
        count = runtime.scheduled_jobs_count()
    finally:
        await runtime.stop()
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert count == 1


async def test_incremental_sync_schedules_a_new_job(
    services: ExecutionServices, factory: Factory, owner: User
) -> None:
    runtime = await _started(services)
    try:
        job = factory.job(owner)
        await runtime.sync_changes()
        assert runtime.scheduler.get_job(job.id) is not None  # type: ignore[union-attr]  # None here fails the test, as it should
    finally:
        await runtime.stop()


async def test_incremental_sync_reads_whole_rows_only_of_jobs_changed_since_they_were_applied(
    services: ExecutionServices, db: Session, factory: Factory, owner: User
) -> None:
    runtime = await _started(services)
    reads: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        reads.append((statement, parameters))

    try:
        imported = [factory.job(owner, name=f"imported-{i}") for i in range(20)]
        await runtime.sync_changes()
        imported[0].cron_expression = "15 7 * * *"
        db.commit()
        event.listen(services.engine.sync_engine, "before_cursor_execute", record)
        await runtime.sync_changes()
        event.remove(services.engine.sync_engine, "before_cursor_execute", record)
    finally:
        await runtime.stop()
    # The overlap still sees all 20 as recently changed; one is read whole: the one edited.
    [(_statement, parameters)] = [(s, p) for s, p in reads if "jobs.cron_expression" in s]
    assert list(parameters) == [imported[0].id]


async def test_paused_job_is_removed_and_does_not_fire(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    job = factory.job(owner, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/p")
    runtime = await _started(services)
    try:
        fire_soon(runtime, job.id, 1.5)
        job.is_active = False
        db.commit()
        await runtime.sync_changes()
        assert runtime.scheduler.get_job(job.id) is None  # type: ignore[union-attr]  # None here fails the test, as it should
        await _sleep(2.5)
    finally:
        await runtime.stop()
    assert receiver.to("/hook/p") == []
    assert _executions(db, job) == []


async def test_cron_change_gives_the_new_next_run(
    services: ExecutionServices, db: Session, factory: Factory, owner: User
) -> None:
    job = factory.job(owner, cron_expression="0 2 * * *")
    runtime = await _started(services)
    try:
        job.cron_expression = "15 7 * * *"
        db.commit()
        await runtime.sync_changes()
        local = runtime.scheduler.get_job(job.id).next_run_time.astimezone(  # type: ignore[union-attr]  # None here fails the test, as it should
            services.settings.scheduler_tz
        )
    finally:
        await runtime.stop()
    assert (local.hour, local.minute) == (7, 15)


async def test_deleted_job_is_removed_by_incremental_sync(
    services: ExecutionServices, db: Session, factory: Factory, owner: User
) -> None:
    job = factory.job(owner)
    runtime = await _started(services)
    try:
        db.delete(job)
        record_job_deletion(db, job.id)
        db.commit()
        await runtime.sync_changes()
        remaining = runtime.scheduled_ids()
    finally:
        await runtime.stop()
    assert job.id not in remaining


async def test_full_reconcile_counts_and_removes_orphans(
    services: ExecutionServices, db: Session, factory: Factory, owner: User
) -> None:
    factory.job(owner)
    factory.job(owner, is_active=False)
    factory.job(owner, end_date=date.today() - timedelta(days=3))
    gone = factory.job(owner)
    bad = factory.job(owner)
    db.execute(update(Job).where(Job.id == bad.id).values(cron_expression="not a cron"))
    db.commit()
    runtime = await _started(services)
    try:
        db.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": gone.id})  # no tombstone: an orphan
        db.commit()
        result = await runtime.full_reconcile()
    finally:
        await runtime.stop()
    assert result.as_dict() | {"ran_at": None} == {
        "ran_at": None, "db_jobs_total": 4, "db_jobs_active": 2, "scheduled_now": 1, "scheduled_added": 0,
        "scheduled_removed": 1, "expired_auto_paused": 0, "orphaned_removed": 1, "invalid_cron": 1,
    }


async def test_expired_job_is_auto_paused_at_leader_start_and_owner_and_admins_notified(
    services: ExecutionServices, db: Session, factory: Factory, owner: User
) -> None:
    admin = factory.user("admin")
    job = factory.job(owner, end_date=date.today() - timedelta(days=3))
    runtime = SchedulerRuntime(services)
    try:
        result = await runtime.start()
        scheduled = runtime.scheduled_ids()
    finally:
        await runtime.stop()
    db.expire_all()
    notified = {n.user_id for n in db.scalars(select(Notification).where(Notification.related_job_id == job.id))}
    assert result.expired_auto_paused == 1
    assert db.get(Job, job.id).is_active is False  # type: ignore[union-attr]  # None here fails the test, as it should
    assert job.id not in scheduled
    assert notified == {owner.id, admin.id}


async def test_fire_time_guard_pauses_a_job_that_expired_after_it_was_scheduled(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    admin = factory.user("admin")
    job = factory.job(owner, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/g")
    runtime = await _started(services)
    try:
        db.execute(update(Job).where(Job.id == job.id).values(end_date=date.today() - timedelta(days=1)))
        db.commit()
        fire_soon(runtime, job.id)  # fires before any sync looks at the change
        await wait_until(lambda: db.scalar(select(Job.is_active).where(Job.id == job.id).execution_options(
            populate_existing=True)) is False)
    finally:
        await runtime.stop()
    db.expire_all()
    notified = {n.user_id for n in db.scalars(select(Notification).where(Notification.related_job_id == job.id))}
    assert receiver.to("/hook/g") == []
    assert _executions(db, job) == []
    assert notified == {owner.id, admin.id}


async def test_run_left_running_by_a_dead_process_is_closed_as_interrupted_at_leader_start(
    services: ExecutionServices, db: Session, factory: Factory, owner: User
) -> None:
    job = factory.job(owner)
    old = factory.execution(job, status="running", started_at=datetime.now(UTC).replace(tzinfo=None)
                            - timedelta(minutes=10))
    recent = factory.execution(job, status="running", trigger_type="manual")
    runtime = await _started(services)
    await runtime.stop()
    db.expire_all()
    closed, still_running = db.get(JobExecution, old.id), db.get(JobExecution, recent.id)
    assert (closed.status, closed.error_message) == ("failed", INTERRUPTED_MESSAGE)  # type: ignore[union-attr]  # None here fails the test, as it should
    assert closed.completed_at is not None and closed.duration_seconds >= 600  # type: ignore[union-attr]  # None here fails the test, as it should
    assert still_running.status == "running"  # type: ignore[union-attr]  # None here fails the test, as it should


async def test_no_fire_is_dispatched_once_the_lease_is_not_held(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    job = factory.job(owner, cron_expression="* * * * *", target_url=f"{receiver.url}/hook/l")
    held = {"value": True}
    runtime = await _started(services, lease_valid=lambda: held["value"])
    try:
        fire_soon(runtime, job.id, 1.0)
        held["value"] = False
        await _sleep(2.5)
    finally:
        await runtime.stop()
    assert receiver.to("/hook/l") == []
    assert _executions(db, job) == []


# --- misfires ---------------------------------------------------------------------------------


async def test_fires_missed_while_no_leader_ran_are_coalesced_into_one_run_within_grace(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    job = factory.job(owner, target_url=f"{receiver.url}/hook/m")
    now = datetime.now(UTC).replace(microsecond=0)
    instants = [now - timedelta(seconds=s) for s in (200, 100, 10)]
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger(instants))
    try:
        await runtime.start(covered_until=(now - timedelta(seconds=300)).replace(tzinfo=None))
        await wait_until(lambda: [e for e in _executions(db, job) if e.status != "running"])
        await _sleep(0.5)
    finally:
        await runtime.stop()
    [execution] = _executions(db, job)
    assert execution.scheduled_for == instants[-1].replace(tzinfo=None)
    assert len(receiver.to("/hook/m")) == 1
    assert runtime.missed_fires == 0


async def test_fires_missed_beyond_grace_are_skipped_and_counted(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    job = factory.job(owner, target_url=f"{receiver.url}/hook/s")
    now = datetime.now(UTC).replace(microsecond=0)
    instants = [now - timedelta(seconds=s) for s in (300, 120)]
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger(instants))
    try:
        await runtime.start(covered_until=(now - timedelta(seconds=400)).replace(tzinfo=None))
        await wait_until(lambda: runtime.missed_fires == 1)
    finally:
        await runtime.stop()
    assert receiver.to("/hook/s") == []
    assert _executions(db, job) == []


async def test_fires_before_the_previous_leader_last_renewal_are_not_repeated(
    services: ExecutionServices, db: Session, factory: Factory, owner: User, receiver: Receiver
) -> None:
    factory.job(owner, target_url=f"{receiver.url}/hook/c")
    now = datetime.now(UTC).replace(microsecond=0)
    runtime = SchedulerRuntime(services, trigger_for=lambda _row: InstantsTrigger([now - timedelta(seconds=20)]))
    try:
        await runtime.start(covered_until=(now - timedelta(seconds=5)).replace(tzinfo=None))
        await _sleep(1.0)
    finally:
        await runtime.stop()
    assert receiver.to("/hook/c") == []
    assert runtime.missed_fires == 0


# --- large reconciliations -------------------------------------------------------------------


def _far_trigger(_row: Any) -> InstantsTrigger:
    return InstantsTrigger([datetime.now(UTC) + timedelta(days=1)])


async def test_a_reconciliation_of_many_jobs_lets_other_tasks_run_between_slices(
    services: ExecutionServices, factory: Factory, owner: User
) -> None:
    for _ in range(APPLY_SLICE + 1):
        factory.job(owner)
    turns = 0

    async def ticker() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    seen: list[int] = []

    def trigger_for(row: Any) -> InstantsTrigger:
        seen.append(turns)
        return _far_trigger(row)

    task = asyncio.create_task(ticker())
    runtime = await _started(services, trigger_for=trigger_for)
    task.cancel()
    await runtime.stop()
    # The lease heartbeat is such a task: it must renew while thousands of triggers are built.
    assert seen[APPLY_SLICE] > seen[APPLY_SLICE - 1]


async def test_a_reconciliation_cut_by_a_restart_leaves_the_new_schedule_to_the_new_pass(
    services: ExecutionServices, factory: Factory, owner: User
) -> None:
    jobs = [factory.job(owner) for _ in range(2 * APPLY_SLICE + 10)]
    now = datetime.now(UTC).replace(microsecond=0)
    missed = now - timedelta(seconds=5)
    calls = 0
    cut = asyncio.Event()
    fired: list[str] = []

    def trigger_for(_row: Any) -> InstantsTrigger:
        nonlocal calls
        calls += 1
        if calls == APPLY_SLICE + 10:
            cut.set()
        return InstantsTrigger([missed, now + timedelta(days=1)])

    async def on_fire(_services: ExecutionServices, job_id: str, _scheduled_for: datetime) -> None:
        fired.append(job_id)

    runtime = SchedulerRuntime(services, trigger_for=trigger_for, on_fire=on_fire)
    first = asyncio.create_task(runtime.start())
    try:
        await cut.wait()
        # A lapsed lease restarts the schedule mid-pass; fires since covered_until are missed fires.
        runtime.halt()
        await runtime.start(covered_until=(now - timedelta(seconds=30)).replace(tzinfo=None))
        await first
        # Every job's missed fire runs once: none was scheduled by the first pass onto the new
        # schedule without the misfire rule.
        await wait_until(lambda: len(fired) == len(jobs))
    finally:
        await runtime.stop()
    assert sorted(fired) == sorted(job.id for job in jobs)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
