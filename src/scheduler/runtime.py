"""The leader's APScheduler: fires, DB→schedule reconciliation, misfires, bounded dispatch.

This module hosts APScheduler and dispatches the fires; `schedule_sync` keeps its schedules equal
to the jobs table, `end_date_rule` auto-pauses expired jobs, `apscheduler_executor` hands each fire
its scheduled time, `interrupted_executions` closes the executions a dead process left running.

Setup (contract 8.9): `AsyncIOScheduler` on the host's event loop, in-memory job store (the
database is the source of truth), schedule id = job id, name = job name, crontab trigger in the
scheduler timezone (`triggers.build_trigger`), job defaults `coalesce=True` and
`misfire_grace_time=SCHEDULER_MISFIRE_GRACE_SECONDS`, plus the internal `end_date_maintenance`
job (Mondays 09:00) and `retention_prune` job (daily at RETENTION_TIME); internal jobs are never
counted, reconciled away or reported as missed fires.

Firing: `FireExecutor` hands each fire's scheduled time to `SchedulerRuntime._fire`, which
checks the lease is still trusted, waits for the job's previous run (one slot per job) and
calls the executor (`execute_job(..., "scheduled", scheduled_for=<fire time>)`), whose database
steps are group-committed with the other fires' (`execution_steps`). The executor's insert keyed by
(job, scheduled fire time) decides who dispatches, so a fire attempted by two schedulers (lease
handover, clock skew) runs once. Once its row is committed, the run waits for one of
`SCHEDULER_MAX_CONCURRENT_RUNS` dispatch slots (freed once the target answered) and calls out,
even if the lease lapsed meanwhile: its row claims the fire, so no other scheduler can run it.
Fires only wait for a slot, never for each other: a slow target holds its own slot until its
timeout. While fires queue for a slot, runs already answered wait
(at most `execution_steps.MAX_DEFER_SECONDS`) before their rows are finalized and notifications
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
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from src.core.clock import to_naive_utc
from src.scheduler.apscheduler_executor import FireExecutor
from src.scheduler.execution_steps import ExecutionSteps
from src.scheduler.interrupted_executions import close_interrupted_runs
from src.scheduler.maintenance import MAINTENANCE_JOB_ID, run_end_date_maintenance
from src.scheduler.retention import RETENTION_JOB_ID, run_retention_prune
from src.scheduler.schedule_sync import INTERNAL_JOB_IDS, ResyncResult, ScheduleSync, TriggerFor, schedule_ids
from src.scheduler.services import ExecutionServices
from src.scheduler.triggers import build_trigger

__all__ = ["ResyncResult", "SchedulerRuntime"]

log = logging.getLogger(__name__)

OnFire = Callable[[ExecutionServices, str, datetime], Awaitable[Any]]

# How often the leader looks for runs left `running` by a dead process.
INTERRUPTED_CHECK_SECONDS = 60.0


class _DispatchSlot:
    """One fire's dispatch slot. The fire counts as waiting for a slot (`waiting_for_slot`) from its
    start until it holds one or ends; the slot is released once, and only if it was taken."""

    def __init__(self, runtime: SchedulerRuntime, scheduled_for: datetime) -> None:
        self.runtime = runtime
        self.scheduled_for = scheduled_for
        self.waiting = True
        self.held = False
        runtime.waiting_for_slot += 1

    async def take(self) -> None:
        try:
            await self.runtime.semaphore.acquire()
        finally:
            self._stop_waiting()
        self.held = True
        # Slot waits count as lag; the run's own outcome is counted by the executor.
        self.runtime.services.metrics.fire_started((datetime.now(UTC) - self.scheduled_for).total_seconds())

    def release(self) -> None:
        if self.held:
            self.held = False
            self.runtime.semaphore.release()

    def done(self) -> None:
        """The fire is over: stop counting it as waiting and free its slot if it still holds one."""
        self._stop_waiting()
        self.release()

    def _stop_waiting(self) -> None:
        if self.waiting:
            self.waiting = False
            self.runtime.waiting_for_slot -= 1


class SchedulerRuntime:
    """APScheduler plus its DB sync, started when this process becomes leader."""

    def __init__(
        self,
        services: ExecutionServices,
        *,
        lease_valid: Callable[[], bool] = lambda: True,
        on_fire: OnFire | None = None,
        trigger_for: TriggerFor | None = None,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.tz = self.settings.scheduler_tz
        self.lease_valid = lease_valid
        # Fires not yet holding a dispatch slot (writing their row or queued for a slot).
        self.waiting_for_slot = 0
        # Fires due together share each database step's transaction (group commit). While fires
        # queue for a slot, finalizing rows and notifying wait (bounded), so a burst's calls go
        # out first instead of sharing the one event loop with that bookkeeping.
        self.execution_steps = ExecutionSteps(services, grouped=True, defer_while=lambda: self.waiting_for_slot > 0)
        # Tests may substitute the run; None is the executor (see `_run_scheduled`).
        self.on_fire = on_fire
        self.scheduler: AsyncIOScheduler | None = None
        self.semaphore = asyncio.Semaphore(max(1, int(self.settings.SCHEDULER_MAX_CONCURRENT_RUNS)))
        self.sync = ScheduleSync(services, current_scheduler=lambda: self.scheduler, fire=self._fire,
                                 forget_job=self._forget_job, trigger_for=trigger_for)
        self._last_interrupted_check = 0.0
        self._job_locks: dict[str, asyncio.Lock] = {}
        self.missed_fires = 0
        self.fires_started = 0

    # --- state -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def scheduled_jobs_count(self) -> int:
        """Job schedules, excluding the internal jobs (health and status, 3.1 / 6.11)."""
        return len(self.scheduled_ids())

    def scheduled_ids(self) -> set[str]:
        return schedule_ids(self.scheduler)

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
            self._maintenance, build_trigger("0 9 * * mon", self.tz),
            id=MAINTENANCE_JOB_ID, name=MAINTENANCE_JOB_ID, replace_existing=True,
        )
        hour, minute = self.settings.retention_hour_minute
        scheduler.add_job(
            self._prune, build_trigger(f"{minute} {hour} * * *", self.tz),
            id=RETENTION_JOB_ID, name=RETENTION_JOB_ID, replace_existing=True,
        )
        scheduler.start()
        return await self.full_reconcile(covered_until=covered_until)

    def halt(self) -> set[asyncio.Future[Any]]:
        """Stop firing now (synchronously); returns the runs still in flight."""
        scheduler, self.scheduler = self.scheduler, None
        self.sync.reset()
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
            slot = _DispatchSlot(self, scheduled_for)
            try:
                # The lease may have been lost while waiting for the job's previous run.
                if not self.lease_valid() or self.scheduler is None:
                    metrics.fire("not_leader")
                    return None
                self.fires_started += 1
                try:
                    if self.on_fire is None:
                        return await self._run_scheduled(job_id, to_naive_utc(scheduled_for), slot)
                    await slot.take()
                    return await self.on_fire(self.services, job_id, to_naive_utc(scheduled_for))
                except Exception:  # noqa: BLE001 - one failed run must not affect the others
                    log.exception("scheduled run of job %s failed to start", job_id)
                    metrics.fire("error")
                    return None
            finally:
                slot.done()

    async def _run_scheduled(self, job_id: str, scheduled_for: datetime, slot: _DispatchSlot) -> Any:
        from src.scheduler.executor import execute_job

        # The row is written before the slot is taken: a burst's rows go in large group-committed
        # batches while earlier fires are calling out, and no slot waits on the database. A fire
        # whose row is committed is dispatched even if the lease lapses while it waits for its
        # slot: the row claims the fire, so no other scheduler can run it. The slot bounds
        # dispatches in flight and is freed once the target answered, so the next fires go out
        # while this run's row and notifications are written.
        return await execute_job(self.services, job_id, "scheduled", scheduled_for=scheduled_for,
                                 steps=self.execution_steps, before_dispatch=slot.take, dispatched=slot.release,
                                 retry_wait=self._wait_without_slot)

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

    # --- reconciliation (schedule_sync) ----------------------------------------------------

    @property
    def last_resync_at(self) -> datetime | None:
        return self.sync.last_resync_at

    async def full_reconcile(self, covered_until: datetime | None = None) -> ResyncResult:
        """Make the schedules match the database (leader start and POST /scheduler/resync)."""
        return await self.sync.full_reconcile(covered_until=covered_until)

    async def sync_changes(self) -> int:
        """Apply the jobs changed or deleted since the last look; returns how many schedules changed."""
        if not self.sync.started:
            await self.full_reconcile()
            return 0
        changed = await self.sync.sync_changes()
        if time.monotonic() - self._last_interrupted_check >= INTERRUPTED_CHECK_SECONDS:
            await self.close_interrupted_runs()
        return changed

    async def close_interrupted_runs(self) -> int:
        """Close `running` rows left by a dead process as failed "Interrupted: ..." (8.2)."""
        self._last_interrupted_check = time.monotonic()
        return await close_interrupted_runs(self.services)

    def _forget_job(self, job_id: str) -> None:
        """The job's schedule is going away: drop its slot lock unless a run holds it."""
        lock = self._job_locks.get(job_id)
        if lock is not None and not lock.locked():
            del self._job_locks[job_id]
