"""The leader's APScheduler: fires, DB→schedule reconciliation, misfires, bounded dispatch.

Setup (contract 8.9): `AsyncIOScheduler` on the host's event loop, in-memory job store (the
database is the source of truth), schedule id = job id, name = job name, crontab trigger in the
scheduler timezone (`triggers.build_trigger`), job defaults `coalesce=True` and
`misfire_grace_time=SCHEDULER_MISFIRE_GRACE_SECONDS`, plus the internal `end_date_maintenance`
job (Mondays 09:00) and `retention_prune` job (daily at RETENTION_TIME); internal jobs are never
counted, reconciled away or reported as missed fires.

Firing: `FireExecutor` hands each fire's scheduled time to `SchedulerRuntime._fire`, which
checks the lease is still trusted, waits for the job's previous run (one slot per job) and for
one of `SCHEDULER_MAX_CONCURRENT_RUNS` dispatch slots (freed once the target answered), and
calls the executor (`run_job(..., "scheduled", scheduled_for=<fire time>)`), whose database
steps are group-committed with the other fires' (`run_steps`). The executor's insert keyed by
(job, scheduled fire time) decides who dispatches, so a fire attempted by two schedulers (lease
handover, clock skew) runs once. Fires only wait for a slot, never for each other: a slow target
holds its own slot until its timeout. While fires queue for a slot, runs already answered wait
(at most `run_steps.MAX_DEFER_SECONDS`) before their rows are finalized and notifications
written, so a burst's calls go out first.

Misfire rule (SCHEDULER_MISFIRE_GRACE_SECONDS, default 60):
- While a leader runs, APScheduler's own check applies: a fire that could not start within the
  grace time (event loop stalled) is skipped and counted; several missed fires of one job are
  coalesced into one run.
- When a leader starts, each job's fires since the previous leader last renewed its lease (the
  lease row remembers it) are missed fires. Only the latest one matters (coalesced): if it is at
  most grace seconds old it runs once now; otherwise it is skipped and counted (one per job,
  `missed_fires` and the log). Waiting for a dispatch slot never counts as missing.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from traceback import format_tb
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.core import scheduler_sync
from src.core.clock import local_today, to_naive_utc, utcnow
from src.core.cron import last_fire_between
from src.core.end_dates import auto_pause
from src.core.run_policy import job_timezone
from src.core.scheduler_sync import JobScheduleRow
from src.models import Job
from src.scheduler.maintenance import MAINTENANCE_JOB_ID, run_end_date_maintenance
from src.scheduler.retention import RETENTION_JOB_ID, run_retention_prune
from src.scheduler.run_steps import RunSteps
from src.scheduler.services import RunServices
from src.scheduler.triggers import InvalidCron, build_trigger

log = logging.getLogger(__name__)

RunFire = Callable[[RunServices, str, datetime], Awaitable[Any]]
TriggerFor = Callable[[JobScheduleRow], BaseTrigger]

# Incremental sync re-reads rows changed this long before its last look: a writer's transaction
# may commit after the `updated_at` it stamped, and hosts' clocks may differ slightly.
SYNC_OVERLAP = timedelta(seconds=120)
# How often the leader looks for runs left `running` by a dead process.
INTERRUPTED_CHECK_SECONDS = 60.0
# Schedules applied between two turns of the event loop during a reconciliation (~0.5 ms each).
APPLY_SLICE = 100
# Cap of trigger steps when looking for missed fires with a non-cron trigger (tests).
_MAX_TRIGGER_STEPS = 10_000
# APScheduler jobs of the scheduler itself, not job schedules.
INTERNAL_JOB_IDS = frozenset({MAINTENANCE_JOB_ID, RETENTION_JOB_ID})


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """`action`, callable many times but done only the first."""
    done = False

    def call() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return call


def interrupted_after_seconds(services: RunServices) -> float:
    """How long a `running` row may stay open before it must belong to a dead process.

    A run makes at most three outbound calls (GitHub extension retry), each bounded by the
    outbound timeout; a generous margin is added on top.
    """
    return max(120.0, 3 * services.settings.OUTBOUND_TIMEOUT_SECONDS + 60.0)


# --- executor: APScheduler's coroutine runner, plus the fire's scheduled time ------------------


class FireExecutor(AsyncIOExecutor):  # type: ignore[misc]  # APScheduler ships no types
    """Like AsyncIOExecutor, but the job function receives `scheduled_for=<fire time>`.

    The misfire check and the events are APScheduler's own (copied from `run_coroutine_job`);
    in-flight tasks are tracked so a clean stop can let them finish instead of cancelling them.
    """

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self.in_flight: set[asyncio.Future[Any]] = set()

    def shutdown(self, wait: bool = True) -> None:  # noqa: ARG002 - the runtime drains in-flight runs
        self._pending_futures.clear()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def done(future: asyncio.Future[Any]) -> None:
            self.in_flight.discard(future)
            try:
                events = future.result()
            except BaseException:  # noqa: BLE001 - includes cancellation at shutdown
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        task = self._eventloop.create_task(_run_fires(job, job._jobstore_alias, run_times, self._logger))
        task.add_done_callback(done)
        self.in_flight.add(task)


async def _run_fires(job: Any, jobstore_alias: str, run_times: list[datetime], logger: logging.Logger) -> list[Any]:
    events: list[Any] = []
    for run_time in run_times:
        if job.misfire_grace_time is not None:
            late = datetime.now(UTC) - run_time
            if late > timedelta(seconds=job.misfire_grace_time):
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, jobstore_alias, run_time))
                logger.warning('Run time of job "%s" was missed by %s', job, late)
                continue
        try:
            result = await job.func(*job.args, scheduled_for=run_time, **job.kwargs)
        except Exception:  # noqa: BLE001 - reported as an APScheduler error event
            exc, tb = sys.exc_info()[1:]
            events.append(JobExecutionEvent(EVENT_JOB_ERROR, job.id, jobstore_alias, run_time,
                                            exception=exc, traceback="".join(format_tb(tb))))
            logger.exception('Job "%s" raised an exception', job)
        else:
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, jobstore_alias, run_time, retval=result))
    return events


# --- reconciliation results --------------------------------------------------------------------


@dataclass
class ResyncResult:
    """Counts of one full reconciliation (the body of POST /scheduler/resync, 6.11)."""

    ran_at: datetime
    db_jobs_total: int = 0
    db_jobs_active: int = 0
    scheduled_now: int = 0
    scheduled_added: int = 0
    scheduled_removed: int = 0
    expired_auto_paused: int = 0
    orphaned_removed: int = 0
    invalid_cron: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Loaded:
    rows: list[JobScheduleRow]
    deleted_ids: set[str] = field(default_factory=set)
    auto_paused: int = 0
    total: int = 0
    active: int = 0


def _load(session: Session, settings: Any, since: datetime | None,
          applied_stamp: Callable[[str], datetime | None] = lambda _job_id: None) -> _Loaded:
    """Read the rows to reconcile and auto-pause expired ones: all rows, or (with `since`) those
    changed since then whose `updated_at` differs from the one applied, plus deletions."""
    deleted: set[str] = set()
    if since is None:
        rows = scheduler_sync.all_job_rows(session)
    else:
        stamps = scheduler_sync.job_stamps_changed_since(session, since)
        rows = scheduler_sync.job_rows_by_id(
            session, [job_id for job_id, stamp in stamps.items() if applied_stamp(job_id) != stamp])
        deleted = scheduler_sync.deleted_job_ids_since(session, since) - stamps.keys()
    today = local_today(settings.scheduler_tz)
    expired_ids = [r.id for r in rows if r.is_active and r.end_date is not None and r.end_date < today]
    paused = 0
    if expired_ids:
        for job in session.scalars(select(Job).where(Job.id.in_(expired_ids))):
            paused += int(auto_pause(session, settings, job))
        session.flush()
        rows = [r for r in rows if r.id not in expired_ids] + scheduler_sync.job_rows_by_id(session, expired_ids)
    loaded = _Loaded(rows=rows, deleted_ids=deleted, auto_paused=paused)
    if since is None:
        loaded.total, loaded.active = scheduler_sync.job_counts(session)
    return loaded


def _wanted(row: JobScheduleRow, today: date) -> bool:
    """The job should be scheduled: active, and its end date (if any) not passed."""
    return row.is_active and (row.end_date is None or row.end_date >= today)


# --- the runtime -------------------------------------------------------------------------------


class SchedulerRuntime:
    """APScheduler plus its DB sync, started when this process becomes leader."""

    def __init__(
        self,
        services: RunServices,
        *,
        lease_valid: Callable[[], bool] = lambda: True,
        run_fire: RunFire | None = None,
        trigger_for: TriggerFor | None = None,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.tz = self.settings.scheduler_tz
        self.lease_valid = lease_valid
        # Fires queued for a dispatch slot: more are due than SCHEDULER_MAX_CONCURRENT_RUNS.
        self.waiting_for_slot = 0
        # Fires due together share each database step's transaction (group commit). While fires
        # queue for a slot, finalizing rows and notifying wait (bounded), so a burst's calls go
        # out first: on one event loop they otherwise took a third of its time (issue 6).
        self.run_steps = RunSteps(services, grouped=True, defer_while=lambda: self.waiting_for_slot > 0)
        # Tests may substitute the run; None is the executor (see `_run_scheduled`).
        self.run_fire = run_fire
        # Tests may substitute the trigger (e.g. "fire at now + 1 s"); production uses the cron.
        self.trigger_for = trigger_for
        self.scheduler: AsyncIOScheduler | None = None
        self.semaphore = asyncio.Semaphore(max(1, int(self.settings.SCHEDULER_MAX_CONCURRENT_RUNS)))
        # The row each schedule was built from (kept only while the job is scheduled).
        self._applied: dict[str, JobScheduleRow] = {}
        self._sync_mark: datetime | None = None
        self._last_interrupted_check = 0.0
        self._sync_lock = asyncio.Lock()
        self._job_locks: dict[str, asyncio.Lock] = {}
        self.last_resync_at: datetime | None = None
        self.missed_fires = 0
        self.fires_started = 0

    # --- state -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def scheduled_jobs_count(self) -> int:
        """Job schedules, excluding the internal jobs (health and status, 3.1 / 6.11)."""
        if self.scheduler is None:
            return 0
        return sum(1 for job in self.scheduler.get_jobs() if job.id not in INTERNAL_JOB_IDS)

    def scheduled_ids(self) -> set[str]:
        if self.scheduler is None:
            return set()
        return {job.id for job in self.scheduler.get_jobs() if job.id not in INTERNAL_JOB_IDS}

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, covered_until: datetime | None = None) -> ResyncResult:
        """Become the active scheduler: close interrupted runs, register maintenance, reconcile.

        `covered_until` (naive UTC) is when the previous leader last renewed: fires after it
        were missed and follow the misfire rule.
        """
        scheduler = AsyncIOScheduler(
            event_loop=asyncio.get_running_loop(),
            timezone=self.tz,
            jobstores={"default": MemoryJobStore()},
            executors={"default": FireExecutor()},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": int(self.settings.SCHEDULER_MISFIRE_GRACE_SECONDS),
                # Concurrency is bounded by the semaphore; never drop a fire for "max instances".
                "max_instances": 1000,
            },
        )
        scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler = scheduler
        await self.close_interrupted_runs()
        scheduler.add_job(
            self._maintenance, CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=self.tz),
            id=MAINTENANCE_JOB_ID, name=MAINTENANCE_JOB_ID, replace_existing=True,
        )
        hour, minute = self.settings.retention_hour_minute
        scheduler.add_job(
            self._prune, CronTrigger(hour=hour, minute=minute, timezone=self.tz),
            id=RETENTION_JOB_ID, name=RETENTION_JOB_ID, replace_existing=True,
        )
        scheduler.start()
        return await self.full_reconcile(covered_until=covered_until)

    def halt(self) -> set[asyncio.Future[Any]]:
        """Stop firing now (synchronously); returns the runs still in flight."""
        scheduler, self.scheduler = self.scheduler, None
        self._applied.clear()
        self._sync_mark = None
        if scheduler is None:
            return set()
        executor = scheduler._lookup_executor("default")
        in_flight = set(getattr(executor, "in_flight", set()))
        if scheduler.running:
            scheduler.pause()
            scheduler.shutdown(wait=False)
        return in_flight

    @staticmethod
    async def drain(in_flight: set[asyncio.Future[Any]], drain_seconds: float = 15.0) -> None:
        """Let in-flight runs finish (each is bounded by its outbound timeouts), then cancel."""
        if not in_flight:
            return
        _done, pending = await asyncio.wait(in_flight, timeout=drain_seconds)
        for task in pending:
            task.cancel()

    async def stop(self, drain_seconds: float = 15.0) -> None:
        """Stop firing at once; let in-flight runs finish (bounded), then shut APScheduler down."""
        await self.drain(self.halt(), drain_seconds)

    # --- firing ----------------------------------------------------------------------------

    async def _fire(self, job_id: str, *, scheduled_for: datetime | None = None) -> Any:
        # FireExecutor always passes the fire time; the default only satisfies APScheduler's
        # signature check at add_job.
        scheduled_for = scheduled_for or datetime.now(UTC)
        metrics = self.services.metrics
        if not self.lease_valid():
            log.warning("lease not held: fire of %s at %s not dispatched", job_id, scheduled_for)
            metrics.fire("not_leader")
            return None
        # One slot per job at a time: a slow target whose fires pile up waits for its own
        # previous run instead of taking every slot from the other jobs.
        job_lock = self._job_locks.setdefault(job_id, asyncio.Lock())
        async with job_lock:
            self.waiting_for_slot += 1
            try:
                await self.semaphore.acquire()
            finally:
                self.waiting_for_slot -= 1
            release_slot = _once(self.semaphore.release)
            try:
                # The lease may have been lost while waiting for a slot: the next leader owns it now.
                if not self.lease_valid() or self.scheduler is None:
                    metrics.fire("not_leader")
                    return None
                self.fires_started += 1
                # Slot waits count as lag; the run's own outcome is counted by the executor.
                metrics.fire_started((datetime.now(UTC) - scheduled_for).total_seconds())
                try:
                    if self.run_fire is None:
                        return await self._run_scheduled(job_id, to_naive_utc(scheduled_for), release_slot)
                    return await self.run_fire(self.services, job_id, to_naive_utc(scheduled_for))
                except Exception:  # noqa: BLE001 - one failed run must not affect the others
                    log.exception("scheduled run of job %s failed to start", job_id)
                    metrics.fire("error")
                    return None
            finally:
                release_slot()

    async def _run_scheduled(self, job_id: str, scheduled_for: datetime, release_slot: Callable[[], None]) -> Any:
        from src.scheduler.executor import run_job

        # The slot bounds dispatches in flight: it is freed once the target answered, so the
        # next fires go out while this run's row and notifications are written.
        return await run_job(self.services, job_id, "scheduled", scheduled_for=scheduled_for,
                             steps=self.run_steps, dispatched=release_slot, retry_wait=self._wait_without_slot)

    async def _wait_without_slot(self, seconds: float) -> None:
        """A retry's wait (up to an hour) lends the run's dispatch slot to other fires meanwhile."""
        self.semaphore.release()
        try:
            await asyncio.sleep(seconds)
        finally:
            # Shielded: a cancelled wait still ends holding a slot, which the fire then releases.
            await asyncio.shield(self.semaphore.acquire())

    async def _maintenance(self, *, scheduled_for: datetime | None = None) -> None:
        if self.lease_valid():
            await run_end_date_maintenance(self.services)

    async def _prune(self, *, scheduled_for: datetime | None = None) -> None:
        if self.lease_valid():
            await run_retention_prune(self.services, keep_going=self.lease_valid)

    def _on_missed(self, event: Any) -> None:
        if event.job_id in INTERNAL_JOB_IDS:
            return
        self.missed_fires += 1
        self.services.metrics.fire("missed")
        log.warning("scheduled fire of job %s at %s skipped: later than the misfire grace time",
                    event.job_id, event.scheduled_run_time)

    # --- reconciliation --------------------------------------------------------------------

    async def _load(self, since: datetime | None) -> _Loaded:
        async with self.services.unit_of_work() as session:
            return await session.run_sync(_load, self.settings, since, self._applied_stamp)

    def _applied_stamp(self, job_id: str) -> datetime | None:
        # The overlap re-reads every job changed in the last two minutes at each pass (all of
        # them after a bulk import): only those changed since they were applied are read whole.
        applied = self._applied.get(job_id)
        return applied.updated_at if applied is not None else None

    async def full_reconcile(self, covered_until: datetime | None = None) -> ResyncResult:
        """Make the schedules match the database (leader start and POST /scheduler/resync)."""
        async with self._sync_lock:
            scheduler = self.scheduler
            mark = utcnow()
            loaded = await self._load(None)
            result = ResyncResult(ran_at=mark, db_jobs_total=loaded.total, db_jobs_active=loaded.active,
                                  expired_auto_paused=loaded.auto_paused)
            existing = {row.id for row in loaded.rows}
            for job_id in self.scheduled_ids() - existing:
                self._remove(job_id)
                result.scheduled_removed += 1
                result.orphaned_removed += 1
            missed_since = covered_until
            today = local_today(self.tz)
            async for row in self._in_slices(loaded.rows, scheduler):
                outcome = self._apply(row, missed_since=missed_since, today=today)
                if outcome == "added":
                    result.scheduled_added += 1
                elif outcome == "removed":
                    result.scheduled_removed += 1
                elif outcome == "invalid":
                    result.invalid_cron += 1
            result.scheduled_now = self.scheduled_jobs_count()
            if self.scheduler is scheduler:
                self._sync_mark = mark
                self.last_resync_at = mark
            return result

    async def sync_changes(self) -> int:
        """Apply the jobs changed or deleted since the last look; returns how many schedules changed."""
        if self._sync_mark is None:
            await self.full_reconcile()
            return 0
        async with self._sync_lock:
            scheduler = self.scheduler
            mark = utcnow()
            loaded = await self._load(self._sync_mark - SYNC_OVERLAP)
            changed = 0
            today = local_today(self.tz)
            async for row in self._in_slices(loaded.rows, scheduler):
                changed += int(self._apply(row, missed_since=None, today=today) in ("added", "replaced", "removed"))
            scheduled = self.scheduled_ids() if loaded.deleted_ids else set()
            for job_id in loaded.deleted_ids:
                if job_id in self._applied or job_id in scheduled:
                    self._remove(job_id)
                    changed += 1
            if self.scheduler is scheduler:
                self._sync_mark = mark
        if time.monotonic() - self._last_interrupted_check >= INTERRUPTED_CHECK_SECONDS:
            await self.close_interrupted_runs()
        return changed

    async def _in_slices(self, rows: list[JobScheduleRow], scheduler: AsyncIOScheduler | None,
                         ) -> AsyncIterator[JobScheduleRow]:
        """The rows, with a turn of the event loop every APPLY_SLICE rows.

        Building thousands of triggers takes seconds: without these turns the lease heartbeat
        could not renew meanwhile (the host then restarts the schedule, which rebuilds them all
        again) and due fires would wait. Stops early when the runtime was halted or restarted
        during a turn: the schedule is no longer the one this pass started on.
        """
        for n, row in enumerate(rows):
            if n % APPLY_SLICE == 0:
                if n:
                    await asyncio.sleep(0)
                if self.scheduler is not scheduler:
                    return
            yield row

    async def close_interrupted_runs(self) -> int:
        """Close `running` rows left by a dead process as failed "Interrupted: ..." (8.2)."""
        self._last_interrupted_check = time.monotonic()
        cutoff = utcnow() - timedelta(seconds=interrupted_after_seconds(self.services))
        try:
            async with self.services.unit_of_work() as session:
                closed = await session.run_sync(
                    scheduler_sync.close_interrupted_runs, cutoff, self.services.settings.OUTBOUND_TIMEOUT_SECONDS)
        except Exception:  # noqa: BLE001 - retried at the next check
            log.exception("closing interrupted runs failed")
            return 0
        if closed:
            log.warning("closed %d run(s) left running by a process that stopped", closed)
        return closed

    def _remove(self, job_id: str) -> None:
        lock = self._job_locks.get(job_id)
        if lock is not None and not lock.locked():
            del self._job_locks[job_id]
        self._applied.pop(job_id, None)
        if self.scheduler is not None and self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def _trigger(self, row: JobScheduleRow) -> BaseTrigger:
        if self.trigger_for is not None:
            return self.trigger_for(row)
        return build_trigger(row.cron_expression, job_timezone(row, self.settings))

    def _latest_missed_fire(self, row: JobScheduleRow, trigger: BaseTrigger, since: datetime) -> datetime | None:
        now = datetime.now(UTC)
        after = since.replace(tzinfo=UTC)
        if self.trigger_for is None:
            return last_fire_between(row.cron_expression, job_timezone(row, self.settings), after, now)
        latest = None
        fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        for _ in range(_MAX_TRIGGER_STEPS):
            if fire is None or fire > now:
                break
            latest = fire
            fire = trigger.get_next_fire_time(fire, fire)
        return latest

    def _apply(self, row: JobScheduleRow, *, missed_since: datetime | None, today: date | None = None) -> str:
        """Schedule, replace or remove one job's schedule; returns what happened."""
        scheduler = self.scheduler
        if scheduler is None:
            return "stopped"
        wanted = _wanted(row, today or local_today(self.tz))
        scheduled = scheduler.get_job(row.id) is not None
        if not wanted:
            if scheduled:
                self._remove(row.id)
                return "removed"
            self._applied.pop(row.id, None)
            return "unchanged"
        applied = self._applied.get(row.id)
        if scheduled and applied is not None and applied.fingerprint == row.fingerprint:
            return "unchanged"
        if scheduled and applied is not None and applied.cron_expression == row.cron_expression \
                and applied.timezone == row.timezone and self.trigger_for is None:
            # Only the name or other columns changed: the executor reads those at fire time.
            scheduler.modify_job(row.id, name=row.name)
            self._applied[row.id] = row
            return "renamed"
        try:
            trigger = self._trigger(row)
        except InvalidCron as exc:
            log.warning("job %s not scheduled: invalid cron %r (%s)", row.id, row.cron_expression, exc)
            if scheduled:
                self._remove(row.id)
            return "invalid"
        options: dict[str, Any] = {}
        if missed_since is not None and not scheduled:
            missed = self._latest_missed_fire(row, trigger, missed_since)
            if missed is not None:
                # Due now: the executor runs it if within grace, else reports it missed (counted).
                options["next_run_time"] = missed
        scheduler.add_job(self._fire, trigger, args=[row.id], id=row.id, name=row.name,
                          replace_existing=True, **options)
        self._applied[row.id] = row
        return "replaced" if scheduled else "added"
