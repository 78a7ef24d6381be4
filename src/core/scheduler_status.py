"""GET /scheduler/status and the resync leader check (contract 6.11).

The deployment-wide part (lease holder, upcoming fires) comes from the database, so any process
can answer; the per-process part is handed in by the door as a `SchedulerProcessState`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.clock import format_local, utcnow
from src.core.cron import next_fire, next_runs
from src.core.errors import Conflict
from src.models import Job, SchedulerLease

LEASE_NAME = "scheduler"
NEXT_RUNS_LIMIT = 10


@dataclass(frozen=True)
class SchedulerProcessState:
    """What the answering process's own scheduler reports; the default is "not running here"."""

    running: bool = False
    is_leader: bool = False
    scheduled_jobs_count: int = 0  # excludes the internal maintenance and retention jobs
    last_resync_at: datetime | None = None


NOT_RUNNING = SchedulerProcessState()


@dataclass(frozen=True)
class LeaderInfo:
    owner_id: str
    hostname: str
    pid: int
    expires_at: datetime


@dataclass(frozen=True)
class NextRun:
    job_id: str
    job_name: str
    run_at: str


@dataclass(frozen=True)
class SchedulerStatus:
    scheduler_running: bool
    scheduler_is_leader: bool
    scheduled_jobs_count: int
    last_resync_at: datetime | None
    host: str
    leader: LeaderInfo | None
    next_runs: list[NextRun] = field(default_factory=list)


def current_leader(session: Session, now: datetime | None = None) -> LeaderInfo | None:
    """The live lease holder, or None when nobody holds an unexpired lease."""
    lease = session.get(SchedulerLease, LEASE_NAME)
    if lease is None or lease.expires_at <= (now or utcnow()):
        return None
    return LeaderInfo(lease.owner_id, lease.hostname, lease.pid, lease.expires_at)


def upcoming_fires(session: Session, settings: Settings, limit: int = NEXT_RUNS_LIMIT,
                   now: datetime | None = None) -> list[NextRun]:
    """The next `limit` fires across active jobs, soonest first (ties by job name).

    Each job's first fire comes from the per-minute cache of `next_fire`; only the fires actually
    taken cost another cron step, so the cost stays near one cached lookup per job. A fire after
    a job's end date (scheduler-local day) is left out: the run guard would pause the job instead.
    """
    tz = settings.scheduler_tz
    current = (now or datetime.now(UTC)).astimezone(UTC)
    rows = session.execute(
        select(Job.id, Job.name, Job.cron_expression, Job.end_date).where(Job.is_active.is_(True))
    ).all()
    heap: list[tuple[datetime, str, str, str, date | None]] = []
    for job_id, name, expression, end_date in rows:
        first = next_fire(expression, tz, current)
        if first is not None:
            heap.append((first.astimezone(UTC), name, job_id, expression, end_date))
    heapq.heapify(heap)
    result: list[NextRun] = []
    while heap and len(result) < limit:
        run_at, name, job_id, expression, end_date = heapq.heappop(heap)
        if end_date is not None and run_at.astimezone(tz).date() > end_date:
            continue  # later fires of this job are past the end date too
        result.append(NextRun(job_id, name, format_local(run_at, tz) or ""))
        following = next_runs(expression, tz, 1, run_at + timedelta(seconds=1))
        if following:
            heapq.heappush(heap, (following[0].astimezone(UTC), name, job_id, expression, end_date))
    return result


def scheduler_status(session: Session, settings: Settings, process: SchedulerProcessState = NOT_RUNNING,
                     now: datetime | None = None) -> SchedulerStatus:
    """The body of GET /scheduler/status."""
    return SchedulerStatus(
        scheduler_running=process.running,
        scheduler_is_leader=process.is_leader,
        scheduled_jobs_count=process.scheduled_jobs_count if process.running else 0,
        last_resync_at=process.last_resync_at,
        host=settings.SCHEDULER_HOST,
        leader=current_leader(session, now.astimezone(UTC).replace(tzinfo=None) if now else None),
        next_runs=upcoming_fires(session, settings, now=now),
    )


def require_running_leader(process: SchedulerProcessState) -> None:
    """POST /scheduler/resync answers only where the scheduler runs as leader."""
    if not (process.running and process.is_leader):
        raise Conflict("Scheduler not leader", "Scheduler is not running as leader in this process.")


__all__ = [
    "NOT_RUNNING",
    "LeaderInfo",
    "NextRun",
    "SchedulerProcessState",
    "SchedulerStatus",
    "current_leader",
    "require_running_leader",
    "scheduler_status",
    "upcoming_fires",
]
