"""Pause a job after `failure_threshold` consecutive failed runs (contract 7.9, 8.11).

Counted over the runs that started since the job was last changed, so re-enabling (or editing) a
paused job gives it a fresh count. The pause notifies through the paths every alert uses: in-app
to the owner and admins, Slack with the PIC team's handle, email to the owner and the job's
notification addresses (each user's failure-mail preference applies).
"""

from __future__ import annotations

import html

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import outbox, slack_alerts
from src.core.job_alerts import warn_owner_and_team
from src.core.job_fields import emails_from_text, unique_emails
from src.core.preferences import email_recipients
from src.models import Job, JobExecution, User

PAUSED_TITLE = "Job auto-paused (repeated failures)"


def consecutive_failures(session: Session, job: Job, limit: int) -> int:
    """Failed runs in a row, newest first, among those started since the job's last change (≤ limit)."""
    statuses = session.scalars(
        select(JobExecution.status)
        .where(JobExecution.job_id == job.id, JobExecution.status != "running",
               JobExecution.started_at >= job.updated_at)
        .order_by(JobExecution.started_at.desc())
        .limit(limit)
    ).all()
    count = 0
    for status in statuses:
        if status != "failed":
            break
        count += 1
    return count


def paused_message(job: Job, failures: int) -> str:
    return f'Job "{job.name}" failed {failures} times in a row and was paused. PIC Team: {job.pic_team or "-"}'


def pause_after_failures(session: Session, settings: Settings, job: Job) -> bool:
    """Pause an active job whose last `failure_threshold` runs all failed; returns whether it did."""
    threshold = job.failure_threshold or 0
    if threshold <= 0 or not job.is_active:
        return False
    if consecutive_failures(session, job, threshold) < threshold:
        return False
    job.is_active = False
    session.flush()
    message = paused_message(job, threshold)
    warn_owner_and_team(
        session, job, PAUSED_TITLE, message,
        f":warning: {slack_alerts.mention(session, job)}Job auto-paused after {threshold} consecutive failures: "
        f"{slack_alerts.job_link(settings, job)}",
    )
    _queue_email(session, job, message)
    return True


def _queue_email(session: Session, job: Job, message: str) -> None:
    addresses = emails_from_text(job.notification_emails) if job.enable_email_notifications else []
    if job.created_by is not None:
        owner_email = session.scalar(select(User.email).where(User.id == job.created_by))
        if owner_email:
            addresses.insert(0, owner_email)
    recipients = email_recipients(session, unique_emails(addresses), "failure")
    if not recipients:
        return
    outbox.queue(session, outbox.EmailMessage(
        recipients=tuple(recipients),
        subject=f"\u23f8\ufe0f {PAUSED_TITLE}: {job.name}",
        html=f"<h2>{PAUSED_TITLE}</h2><p>{html.escape(message)}</p>"
             "<p>Fix the target, then enable the job again.</p>",
        text=f"{PAUSED_TITLE}\n\n{message}\n\nFix the target, then enable the job again.",
        job_name=job.name,
    ))
