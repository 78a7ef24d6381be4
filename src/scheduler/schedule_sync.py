"""Keeping APScheduler's schedules equal to the jobs table (contract 8.9).

A full reconciliation runs when this process becomes leader and on POST /scheduler/resync; an
incremental one every SCHEDULER_SYNC_SECONDS reads only the jobs changed (or deleted) since its
last look. Expired jobs are auto-paused on the way (`end_date_rule`). At leader start, a job's
latest fire missed since the previous leader's last renewal is scheduled due now (the misfire
rule in `runtime`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import scheduler_sync
from src.core.clock import local_today, utcnow
from src.core.cron import last_fire_between
from src.core.run_policy import job_timezone
from src.core.scheduler_sync import JobScheduleRow
from src.scheduler.end_date_rule import auto_pause_expired, should_be_scheduled
from src.scheduler.maintenance import MAINTENANCE_JOB_ID
from src.scheduler.retention import RETENTION_JOB_ID
from src.scheduler.services import ExecutionServices
from src.scheduler.triggers import InvalidCron, build_trigger

log = logging.getLogger(__name__)

TriggerFor = Callable[[JobScheduleRow], BaseTrigger]

# Incremental sync re-reads rows changed this long before its last look: a writer's transaction
# may commit after the `updated_at` it stamped, and hosts' clocks may differ slightly.
SYNC_OVERLAP = timedelta(seconds=120)
# Schedules applied between two turns of the event loop during a reconciliation.
APPLY_SLICE = 100
# Cap of trigger steps when looking for missed fires with a non-cron trigger (tests).
_MAX_TRIGGER_STEPS = 10_000
# APScheduler jobs of the scheduler itself, not job schedules.
INTERNAL_JOB_IDS = frozenset({MAINTENANCE_JOB_ID, RETENTION_JOB_ID})


def schedule_ids(scheduler: AsyncIOScheduler | None) -> set[str]:
    """The ids of the job schedules, the internal jobs excluded."""
    if scheduler is None:
        return set()
    return {job.id for job in scheduler.get_jobs() if job.id not in INTERNAL_JOB_IDS}


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


def _load(session: Session, settings: Settings, since: datetime | None,
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
    rows, paused = auto_pause_expired(session, settings, rows, local_today(settings.scheduler_tz))
    loaded = _Loaded(rows=rows, deleted_ids=deleted, auto_paused=paused)
    if since is None:
        loaded.total, loaded.active = scheduler_sync.job_counts(session)
    return loaded


class ScheduleSync:
    """The reconciliation of one runtime: what each schedule was built from, and when it last looked."""

    def __init__(
        self,
        services: ExecutionServices,
        *,
        current_scheduler: Callable[[], AsyncIOScheduler | None],
        fire: Callable[..., Awaitable[Any]],
        forget_job: Callable[[str], None],
        trigger_for: TriggerFor | None = None,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.tz = self.settings.scheduler_tz
        self._current_scheduler = current_scheduler
        self._fire = fire
        self._forget_job = forget_job
        # Tests may substitute the trigger (e.g. "fire at now + 1 s"); production uses the cron.
        self.trigger_for = trigger_for
        # The row each schedule was built from (kept only while the job is scheduled).
        self._applied: dict[str, JobScheduleRow] = {}
        self._sync_mark: datetime | None = None
        self._lock = asyncio.Lock()
        self.last_resync_at: datetime | None = None

    @property
    def started(self) -> bool:
        """A full reconciliation completed on the current schedule (incremental passes may follow)."""
        return self._sync_mark is not None

    def reset(self) -> None:
        """Forget the schedule (the runtime halted): the next pass is a full one."""
        self._applied.clear()
        self._sync_mark = None

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
        async with self._lock:
            scheduler = self._current_scheduler()
            mark = utcnow()
            loaded = await self._load(None)
            result = ResyncResult(ran_at=mark, db_jobs_total=loaded.total, db_jobs_active=loaded.active,
                                  expired_auto_paused=loaded.auto_paused)
            existing = {row.id for row in loaded.rows}
            for job_id in schedule_ids(scheduler) - existing:
                self._remove(job_id)
                result.scheduled_removed += 1
                result.orphaned_removed += 1
            today = local_today(self.tz)
            async for row in self._in_slices(loaded.rows, scheduler):
                outcome = self.apply(row, missed_since=covered_until, today=today)
                if outcome == "added":
                    result.scheduled_added += 1
                elif outcome == "removed":
                    result.scheduled_removed += 1
                elif outcome == "invalid":
                    result.invalid_cron += 1
            result.scheduled_now = len(schedule_ids(self._current_scheduler()))
            if self._current_scheduler() is scheduler:
                self._sync_mark = mark
                self.last_resync_at = mark
            return result

    async def sync_changes(self) -> int:
        """Apply the jobs changed or deleted since the last look; returns how many schedules changed."""
        async with self._lock:
            if self._sync_mark is None:
                return 0  # halted since the caller looked: the next start reconciles in full
            scheduler = self._current_scheduler()
            mark = utcnow()
            loaded = await self._load(self._sync_mark - SYNC_OVERLAP)
            changed = 0
            today = local_today(self.tz)
            async for row in self._in_slices(loaded.rows, scheduler):
                changed += int(self.apply(row, missed_since=None, today=today) in ("added", "replaced", "removed"))
            scheduled = schedule_ids(scheduler) if loaded.deleted_ids else set()
            for job_id in loaded.deleted_ids:
                if job_id in self._applied or job_id in scheduled:
                    self._remove(job_id)
                    changed += 1
            if self._current_scheduler() is scheduler:
                self._sync_mark = mark
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
                if self._current_scheduler() is not scheduler:
                    return
            yield row

    def _remove(self, job_id: str) -> None:
        self._forget_job(job_id)
        self._applied.pop(job_id, None)
        scheduler = self._current_scheduler()
        if scheduler is not None and scheduler.get_job(job_id) is not None:
            scheduler.remove_job(job_id)

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

    def apply(self, row: JobScheduleRow, *, missed_since: datetime | None, today: date | None = None) -> str:
        """Schedule, replace or remove one job's schedule; returns what happened."""
        scheduler = self._current_scheduler()
        if scheduler is None:
            return "stopped"
        wanted = should_be_scheduled(row, today or local_today(self.tz))
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
