"""The database steps of one run (contract 8.2, 8.5–8.7), called by the executor via `run_sync`.

1. `begin_run`: guard (scheduled runs), insert the `running` row with its type and target.
2. `finish_run`: finalize the row.
3. `announce_run`: in-app notifications, emails and Slack messages (queued on the outbox).
Each step is its own transaction in the executor, so a notification problem never changes the row.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import outbox, slack_alerts
from src.core.broadcasts import notify_all_users
from src.core.clock import to_naive_utc, utcnow
from src.core.end_dates import auto_pause
from src.core.job_fields import emails_from_text, is_expired
from src.core.job_runs import RunPlan, plan_for_job
from src.core.preferences import email_recipients
from src.models import Job, JobExecution

TriggerType = Literal["scheduled", "manual"]
OUTPUT_LIMIT = 1000


@dataclass(frozen=True)
class StartedRun:
    execution_id: str
    plan: RunPlan


def begin_run(
    session: Session,
    settings: Settings,
    job_id: str,
    trigger_type: TriggerType,
    *,
    plan: RunPlan | None = None,
    scheduled_for: datetime | None = None,
) -> StartedRun | None:
    """Insert the `running` row; None when there is nothing to run.

    Scheduled runs are guarded: a missing or inactive job runs nothing, an expired one is
    auto-paused instead. A duplicate (job, scheduled_for) raises IntegrityError at the flush:
    another scheduler already took this fire.
    """
    job = session.get(Job, job_id)
    if job is None:
        return None
    if trigger_type == "scheduled":
        if not job.is_active:
            return None
        if is_expired(job.end_date, settings):
            auto_pause(session, settings, job)
            return None
    plan = plan or plan_for_job(job)
    execution = JobExecution(
        job_id=job.id,
        status="running",
        trigger_type=trigger_type,
        started_at=utcnow(),
        scheduled_for=to_naive_utc(scheduled_for) if scheduled_for else None,
        execution_type=plan.execution_type,
        target=plan.target,
    )
    session.add(execution)
    session.flush()
    return StartedRun(execution.id, plan)


def no_target_error(job_name: str) -> str:
    return f"Job '{job_name}' has no valid target (neither GitHub Actions nor webhook URL)"


def unexpected_error(job_name: str, exc: BaseException) -> str:
    return f"Unexpected error executing job '{job_name}': {exc}"


def finish_run(
    session: Session,
    execution_id: str,
    *,
    success: bool,
    response_status: int | None = None,
    error_message: str | None = None,
    output: str | None = None,
    target: str | None = None,
) -> bool:
    """Finalize the row per the table of 8.2; False when the row is gone (job deleted meanwhile)."""
    execution = session.get(JobExecution, execution_id)
    if execution is None:
        return False
    completed = utcnow()
    execution.status = "success" if success else "failed"
    execution.completed_at = completed
    execution.duration_seconds = max(0.0, (completed - execution.started_at).total_seconds())
    execution.response_status = response_status
    execution.error_message = error_message
    execution.output = output[:OUTPUT_LIMIT] if output is not None else None
    if target:
        execution.target = target
    session.flush()
    return True


def announce_run(session: Session, settings: Settings, execution_id: str) -> None:
    """Notifications (8.5), emails (8.6) and Slack (8.7) for a finalized run."""
    execution = session.get(JobExecution, execution_id)
    if execution is None or execution.status == "running":
        return
    job = session.get(Job, execution.job_id)
    if job is None:
        return
    failed = execution.status == "failed"
    if failed:
        notify_all_users(
            session, "Job Failed", f'Job "{job.name}" failed: {execution.error_message}', "error",
            related_job_id=job.id, related_execution_id=execution.id,
        )
    else:
        notify_all_users(
            session, "Job Completed", f'Job "{job.name}" completed successfully.', "success",
            related_job_id=job.id, related_execution_id=execution.id,
        )
    _queue_email(session, job, execution)
    if failed:
        slack_alerts.queue_alert(
            session,
            slack_alerts.failed_text(session, settings, job, execution.trigger_type, execution.error_message),
            job_name=job.name,
        )
    elif _previous_run_failed(session, execution):
        slack_alerts.queue_alert(session, slack_alerts.recovered_text(session, settings, job), job_name=job.name)


def _previous_run_failed(session: Session, execution: JobExecution) -> bool:
    """Recovery test: the latest finished run of the job started before this one failed."""
    previous = session.scalar(
        select(JobExecution.status)
        .where(
            JobExecution.job_id == execution.job_id,
            JobExecution.id != execution.id,
            JobExecution.status != "running",
            JobExecution.started_at <= execution.started_at,
        )
        .order_by(JobExecution.started_at.desc(), JobExecution.completed_at.desc())
        .limit(1)
    )
    return previous == "failed"


# --- email (8.6) ---------------------------------------------------------------------------


def _unique_addresses(addresses: Iterable[str]) -> list[str]:
    """Trimmed, blanks dropped, de-duplicated case-insensitively (first spelling kept)."""
    unique: dict[str, str] = {}
    for address in addresses:
        if address.strip():
            unique.setdefault(address.strip().lower(), address.strip())
    return list(unique.values())


def _queue_email(session: Session, job: Job, execution: JobExecution) -> None:
    if not job.enable_email_notifications:
        return
    failed = execution.status == "failed"
    if not failed and not job.notify_on_success:
        return
    addresses = _unique_addresses(emails_from_text(job.notification_emails))
    recipients = email_recipients(session, addresses, "failure" if failed else "success")
    if not recipients:
        return
    message = failure_email(job, execution) if failed else success_email(job, execution)
    outbox.queue(session, outbox.EmailMessage(recipients=tuple(recipients), job_name=job.name, **message))


def failure_email(job: Job, execution: JobExecution) -> dict[str, str]:
    error = execution.error_message or "Unknown error"
    text = (
        f"Job failure alert\n\nJob: {job.name}\nJob ID: {job.id}\nError: {error}\n\n"
        "Please review the job configuration and the execution logs."
    )
    body = (
        "<h2>Job failure alert</h2>"
        f"<p><strong>Job:</strong> {html.escape(job.name)}<br>"
        f"<strong>Job ID:</strong> {html.escape(job.id)}<br>"
        f"<strong>Error:</strong> {html.escape(error)}</p>"
        "<p>Please review the job configuration and the execution logs.</p>"
    )
    return {"subject": f"\U0001f534 Job Failure Alert: {job.name}", "html": body, "text": text}


def success_email(job: Job, execution: JobExecution) -> dict[str, str]:
    duration = f"{execution.duration_seconds or 0.0:.2f}"
    text = (
        f"Job completed successfully\n\nJob: {job.name}\nJob ID: {job.id}\nDuration: {duration} seconds\n\n"
        "This is an informational message; no action is needed."
    )
    body = (
        "<h2>Job completed successfully</h2>"
        f"<p><strong>Job:</strong> {html.escape(job.name)}<br>"
        f"<strong>Job ID:</strong> {html.escape(job.id)}<br>"
        f"<strong>Duration:</strong> {duration} seconds</p>"
        "<p>This is an informational message; no action is needed.</p>"
    )
    return {"subject": f"\u2705 Job Success: {job.name}", "html": body, "text": text}
