"""Retention: which executions and notifications are old enough to delete, one batch at a time.

Rules (settings EXECUTION_RETENTION_DAYS, NOTIFICATION_RETENTION_DAYS; 0 keeps rows forever):
- an execution goes when its `started_at` (always set) is older than the cutoff, unless it is
  still `running` or is its job's newest execution: so a job's `last_execution_at` and
  `latest_execution` (contract 2.2, 5.2) never change because of pruning;
- a notification goes when its `created_at` is older than its cutoff, read or unread;
- notifications that point at a deleted execution keep existing with `related_execution_id`
  null, as when a job is deleted (contract 4.5);
- whatever the retention days, revocations of tokens that have expired anyway (`revoked_tokens`)
  and job-deletion tombstones every leader has long seen (`job_deletions`, older than a day) go:
  both tables otherwise only grow.

Each batch function never commits: each batch is a unit of work of its own (the scheduler's
retention job, the CLI through `prune_in_batches`), so no prune holds a write lock for longer than
one batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from src.config import Settings
from src.core.clock import utcnow
from src.core.scheduler_sync import count_prunable_tombstones, prune_tombstones
from src.core.tokens import count_prunable_revoked, prune_revoked
from src.core.unit_of_work import unit_of_work
from src.models import JobExecution, Notification

BatchStep = Callable[[Session], int]
# Pause between batches: long enough for a writer waiting on SQLite's lock (busy handler) to get
# its turn, short enough for a big first prune (a million rows = 1000 batches) to take minutes.
BATCH_PAUSE_SECONDS = 0.05


@dataclass(frozen=True)
class RetentionPolicy:
    """Cutoffs (naive UTC; None = keep forever) and the batch size of one prune."""

    execution_cutoff: datetime | None
    notification_cutoff: datetime | None
    batch_size: int


@dataclass
class PruneCounts:
    """Rows removed (or, for a dry run, removable) and the transactions used."""

    executions: int = 0
    notifications: int = 0
    revoked_tokens: int = 0
    job_deletions: int = 0
    batches: int = 0


def _cutoff(now: datetime, days: int) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def retention_policy(settings: Settings, now: datetime | None = None) -> RetentionPolicy:
    """The cutoffs as of `now` (naive UTC, default: now)."""
    now = now or utcnow()
    return RetentionPolicy(
        execution_cutoff=_cutoff(now, settings.EXECUTION_RETENTION_DAYS),
        notification_cutoff=_cutoff(now, settings.NOTIFICATION_RETENTION_DAYS),
        batch_size=settings.RETENTION_BATCH_SIZE,
    )


def _old_executions(cutoff: datetime) -> list[ColumnElement[bool]]:
    newer = aliased(JobExecution)
    has_newer = exists().where(newer.job_id == JobExecution.job_id, newer.started_at > JobExecution.started_at)
    return [JobExecution.started_at < cutoff, JobExecution.status != "running", has_newer]


def prune_executions_batch(session: Session, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` old executions, oldest first; returns how many."""
    ids = list(session.scalars(
        select(JobExecution.id).where(*_old_executions(cutoff)).order_by(JobExecution.started_at).limit(limit)
    ))
    if not ids:
        return 0
    # Explicit, so it holds whether or not the database enforces ON DELETE SET NULL.
    session.execute(
        update(Notification).where(Notification.related_execution_id.in_(ids))
        .values(related_execution_id=None).execution_options(synchronize_session=False)
    )
    session.execute(delete(JobExecution).where(JobExecution.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


def prune_notifications_batch(session: Session, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` notifications created before `cutoff`, oldest first; returns how many."""
    ids = list(session.scalars(
        select(Notification.id).where(Notification.created_at < cutoff).order_by(Notification.created_at).limit(limit)
    ))
    if ids:
        session.execute(delete(Notification).where(Notification.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)


def batch_steps(policy: RetentionPolicy) -> list[tuple[str, BatchStep]]:
    """(table, one-batch step) for every table whose retention is on, notifications first.

    Run each step in its own transaction until it returns less than `policy.batch_size`.
    """
    steps: list[tuple[str, BatchStep]] = []
    if policy.notification_cutoff is not None:
        cutoff_n = policy.notification_cutoff
        steps.append(("notifications", lambda s: prune_notifications_batch(s, cutoff_n, policy.batch_size)))
    if policy.execution_cutoff is not None:
        cutoff_e = policy.execution_cutoff
        steps.append(("executions", lambda s: prune_executions_batch(s, cutoff_e, policy.batch_size)))
    steps.append(("revoked_tokens", lambda s: prune_revoked(s, limit=policy.batch_size)))
    steps.append(("job_deletions", lambda s: prune_tombstones(s, limit=policy.batch_size)))
    return steps


def prunable_counts(session: Session, policy: RetentionPolicy) -> PruneCounts:
    """What a prune with `policy` would remove now (the dry run); `batches` is left at 0."""
    counts = PruneCounts()
    if policy.notification_cutoff is not None:
        counts.notifications = session.scalar(
            select(func.count()).select_from(Notification).where(Notification.created_at < policy.notification_cutoff)
        ) or 0
    if policy.execution_cutoff is not None:
        counts.executions = session.scalar(
            select(func.count()).select_from(JobExecution).where(*_old_executions(policy.execution_cutoff))
        ) or 0
    counts.revoked_tokens = count_prunable_revoked(session)
    counts.job_deletions = count_prunable_tombstones(session)
    return counts


def add_batch(counts: PruneCounts, table: str, removed: int) -> None:
    """Account one committed batch of `table` in `counts`."""
    counts.batches += 1
    setattr(counts, table, getattr(counts, table) + removed)


def prune_in_batches(sessions: Callable[[], Session], policy: RetentionPolicy, *,
                     pause: float = BATCH_PAUSE_SECONDS) -> PruneCounts:
    """The synchronous prune (CLI): every step until a batch comes up short, committing each batch."""
    counts = PruneCounts()
    for table, step in batch_steps(policy):
        while True:
            with unit_of_work(sessions) as session:
                removed = step(session)
            add_batch(counts, table, removed)
            if removed < policy.batch_size:
                break
            time.sleep(pause)
    return counts
