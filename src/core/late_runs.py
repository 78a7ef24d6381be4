"""Late-run alerts (contract 8.12): a fire that has not started `grace_seconds` after its time.

Checked by every process that hosts a scheduler, leader or not, so a fire nobody ran (no process
held the lease, the leader was stuck) is still reported. Each late fire alerts once: the job
remembers the fire it last alerted about, claimed by a conditional update so two processes
checking at once alert once between them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, exists, or_, select, update
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import slack_alerts
from src.core.clock import format_utc, to_naive_utc
from src.core.cron import last_fire_between
from src.core.job_alerts import warn_owner_and_team
from src.core.job_fields import is_expired
from src.core.run_policy import job_timezone
from src.models import Job, JobExecution

LATE_TITLE = "Job run late"
# A fire older than this is history, not lateness: only the latest recent fire is looked at.
LOOKBACK = timedelta(days=1)


def late_message(job: Job, fire: datetime) -> str:
    return (
        f'Job "{job.name}" was due at {format_utc(fire)} and has not started within {job.grace_seconds} s. '
        f"PIC Team: {job.pic_team or '-'}"
    )


def late_fire(session: Session, settings: Settings, job: Job, now: datetime) -> datetime | None:
    """The job's latest fire past its grace that no run started for, or None (naive UTC)."""
    if not job.grace_seconds or not job.is_active or is_expired(job.end_date, settings, now=now):
        return None
    due_by = now - timedelta(seconds=job.grace_seconds)
    created = job.created_at.replace(tzinfo=UTC)
    fire = last_fire_between(job.cron_expression, job_timezone(job, settings), max(created, now - LOOKBACK), due_by)
    if fire is None:
        return None
    fire_utc = to_naive_utc(fire)
    started = session.scalar(select(exists().where(
        JobExecution.job_id == job.id, JobExecution.started_at >= fire_utc)))
    return None if started else fire_utc


def raise_late_alerts(session: Session, settings: Settings, now: datetime | None = None) -> list[str]:
    """Alert (in-app owner + admins, Slack with the PIC handle) for each newly late fire; the job ids."""
    current = (now or datetime.now(UTC)).astimezone(UTC)
    alerted: list[str] = []
    jobs = session.scalars(select(Job).where(Job.is_active.is_(True), Job.grace_seconds.is_not(None)))
    for job in jobs:
        fire = late_fire(session, settings, job, current)
        if fire is None or job.late_alert_for == fire:
            continue
        # Kept off `updated_at`: an alert is not a change of the job (the scheduler and the
        # failure count watch that column).
        claimed = cast(CursorResult[Any], session.execute(
            update(Job)
            .where(Job.id == job.id, or_(Job.late_alert_for.is_(None), Job.late_alert_for != fire))
            .values(late_alert_for=fire, updated_at=Job.updated_at)
            .execution_options(synchronize_session=False)
        )).rowcount
        if claimed != 1:
            continue
        warn_owner_and_team(
            session, job, LATE_TITLE, late_message(job, fire),
            f":hourglass: {slack_alerts.mention(session, job)}Job run late: {slack_alerts.job_link(settings, job)} "
            f"(due {format_utc(fire)}, not started within {job.grace_seconds} s)",
        )
        alerted.append(job.id)
    session.flush()
    return alerted
