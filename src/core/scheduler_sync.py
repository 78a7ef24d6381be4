"""What the scheduler's DB→schedule sync reads (contract 8.9): changed jobs and deletion tombstones.

Write paths call `record_job_deletion` when they delete a job (in the same transaction), so the
leader's incremental sync, which only looks at rows changed since its last look, also sees
deletions. Creates, edits, pauses and resumes are seen through the indexed `jobs.updated_at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from src.core.request_settings import settings_of
from src.core.retry_policy import longest_run_seconds
from src.models import Job, JobDeletion, utcnow

# Tombstones older than this are pruned: every leader has looked at them long before.
TOMBSTONE_RETENTION = timedelta(days=1)


class JobScheduleRow(NamedTuple):
    """The columns a schedule depends on; targets and payload are read by the executor at fire time.

    A tuple rather than a frozen dataclass: a sync pass builds one per recently changed job, up to
    every job after a bulk import, and a frozen dataclass is much slower to construct.
    """

    id: str
    name: str
    cron_expression: str
    is_active: bool
    end_date: date | None
    updated_at: datetime
    # The job's own IANA zone for its cron (7.9), or None for the scheduler's.
    timezone: str | None = None

    @property
    def fingerprint(self) -> tuple[object, ...]:
        return (self.name, self.cron_expression, self.is_active, self.end_date, self.updated_at, self.timezone)


_COLUMNS = (Job.id, Job.name, Job.cron_expression, Job.is_active, Job.end_date, Job.updated_at, Job.timezone)


def record_job_deletion(session: Session, job_ids: str | Iterable[str]) -> None:
    """Leave a tombstone for each deleted job id (call from every job delete path)."""
    ids = [job_ids] if isinstance(job_ids, str) else list(job_ids)
    now = utcnow()
    session.add_all(JobDeletion(job_id=job_id, deleted_at=now) for job_id in ids)
    session.flush()


def all_job_rows(session: Session) -> list[JobScheduleRow]:
    """Every job's schedule columns (full reconciliation)."""
    return [JobScheduleRow._make(row) for row in session.execute(select(*_COLUMNS))]


def job_stamps_changed_since(session: Session, since: datetime) -> dict[str, datetime]:
    """`updated_at` by id of the jobs changed at or after `since` (uses the index on jobs.updated_at).

    Two columns through Core: an incremental sync compares these with what it applied and reads
    whole rows only for the others (after a bulk import, every pass of the next two minutes sees
    all the imported jobs here).
    """
    table = Job.__table__
    query = select(table.c.id, table.c.updated_at).where(table.c.updated_at >= since)
    return {job_id: stamp for job_id, stamp in session.connection().execute(query)}


# Ids per IN list: well under SQLite's and PostgreSQL's bound-parameter limits.
_IDS_PER_QUERY = 1000


def job_rows_by_id(session: Session, job_ids: Iterable[str]) -> list[JobScheduleRow]:
    ids = list(job_ids)
    rows: list[JobScheduleRow] = []
    for start in range(0, len(ids), _IDS_PER_QUERY):
        query = select(*_COLUMNS).where(Job.id.in_(ids[start:start + _IDS_PER_QUERY]))
        rows.extend(JobScheduleRow._make(row) for row in session.execute(query))
    return rows


def deleted_job_ids_since(session: Session, since: datetime) -> set[str]:
    """Ids of jobs deleted at or after `since` (uses the index on job_deletions.deleted_at)."""
    return set(session.scalars(select(JobDeletion.job_id).where(JobDeletion.deleted_at >= since)))


def _old_tombstones(now: datetime | None) -> ColumnElement[bool]:
    return JobDeletion.deleted_at < (now or utcnow()) - TOMBSTONE_RETENTION


def prune_tombstones(session: Session, now: datetime | None = None, limit: int | None = None) -> int:
    """Delete tombstones past retention (at most `limit`, oldest first); returns how many."""
    old = select(JobDeletion.id).where(_old_tombstones(now)).order_by(JobDeletion.deleted_at)
    ids = list(session.scalars(old.limit(limit) if limit is not None else old))
    if ids:
        session.execute(delete(JobDeletion).where(JobDeletion.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


def count_prunable_tombstones(session: Session, now: datetime | None = None) -> int:
    """How many tombstones prune_tombstones would delete now."""
    return session.scalar(select(func.count()).select_from(JobDeletion).where(_old_tombstones(now))) or 0


def job_counts(session: Session) -> tuple[int, int]:
    """(all jobs, active jobs) in one statement."""
    total, active = session.execute(
        select(func.count(Job.id), func.count(Job.id).filter(Job.is_active.is_(True)))
    ).one()
    return int(total), int(active)


INTERRUPTED_MESSAGE = "Interrupted: the process running this job stopped before it finished"


def close_interrupted_runs(session: Session, started_before: datetime, outbound_timeout: float = 10.0) -> int:
    """Close runs still `running` that started before `started_before` as failed (contract 8.2).

    No live process keeps a run open that long (every outbound call has a timeout), so such a
    row was left by a process that died; a recent `running` row may belong to a live process
    (a manual run served by another replica) and is left alone. A job with retries or a longer
    timeout may run longer: its rows wait until even its slowest run would be over.
    """
    from src.models import JobExecution

    now = utcnow()
    candidates = session.execute(
        select(JobExecution, Job).join(Job, Job.id == JobExecution.job_id)
        .where(JobExecution.status == "running", JobExecution.started_at < started_before)
    ).all()
    rows = []
    for execution, job in candidates:
        request = settings_of(job)
        if request.max_retries or request.timeout_seconds:
            longest = longest_run_seconds(request.attempts_allowed, request.timeout_seconds or outbound_timeout)
            if execution.started_at > now - timedelta(seconds=longest):
                continue
        rows.append(execution)
    for execution in rows:
        execution.status = "failed"
        execution.completed_at = now
        execution.duration_seconds = max(0.0, (now - execution.started_at).total_seconds())
        execution.duration_ms = round(execution.duration_seconds * 1000)
        execution.error_message = INTERRUPTED_MESSAGE
    session.flush()
    return len(rows)
