"""The database steps of one run (contract 8.2, 8.5–8.7), called by the executor via `run_sync`.

1. `begin_execution`: guard (scheduled runs), insert the `running` row with its type and target.
2. `finish_execution`: finalize the row.
3. `announce_execution`: in-app notifications, emails and Slack messages (queued on the outbox).
Each step is its own transaction in the executor, so a notification problem never changes the row.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session, aliased

from src.config import Settings
from src.core import outbox, slack_alerts
from src.core.broadcasts import AllUsersNotices
from src.core.clock import to_naive_utc, utcnow
from src.core.end_dates import auto_pause
from src.core.execution_plans import ExecutionPlan, plan_for_job
from src.core.failure_policy import pause_after_failures
from src.core.job_fields import emails_from_text, is_expired, unique_emails
from src.core.preferences import email_recipients
from src.models import Job, JobExecution
from src.models.base import new_id

TriggerType = Literal["scheduled", "manual"]
ExecutionStatus = Literal["running", "success", "failed"]
OUTPUT_LIMIT = 1000


@dataclass(frozen=True)
class StartedExecution:
    execution_id: str
    plan: ExecutionPlan


def begin_execution(
    session: Session,
    settings: Settings,
    job_id: str,
    trigger_type: TriggerType,
    *,
    plan: ExecutionPlan | None = None,
    scheduled_for: datetime | None = None,
) -> StartedExecution | None:
    """Insert the `running` row; None when there is nothing to run.

    Scheduled runs are guarded: a missing or inactive job runs nothing, an expired one is
    auto-paused instead. A duplicate (job, scheduled_for) raises IntegrityError at the flush:
    another scheduler already took this fire.
    """
    return begin_executions(session, settings, [ExecutionRequest(job_id, trigger_type, plan, scheduled_for)])[0]


@dataclass(frozen=True)
class ExecutionRequest:
    """The arguments of one `begin_execution`."""

    job_id: str
    trigger_type: TriggerType
    plan: ExecutionPlan | None = None
    scheduled_for: datetime | None = None


def begin_executions(session: Session, settings: Settings,
                     requests: list[ExecutionRequest]) -> list[StartedExecution | None]:
    """`begin_execution` for several runs: one read of their jobs, one insert (IntegrityError if any fire is taken)."""
    ids = sorted({request.job_id for request in requests})
    jobs = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(ids)))}
    started_at = utcnow()
    rows: list[dict[str, object]] = []
    started: list[StartedExecution | None] = []
    for request in requests:
        plan = _plan(session, settings, jobs.get(request.job_id), request)
        if plan is None:
            started.append(None)
            continue
        execution_id = new_id()
        rows.append({
            "id": execution_id, "job_id": request.job_id, "status": "running",
            "trigger_type": request.trigger_type, "started_at": started_at,
            "scheduled_for": to_naive_utc(request.scheduled_for) if request.scheduled_for else None,
            "execution_type": plan.execution_type, "target": plan.target,
        })
        started.append(StartedExecution(execution_id, plan))
    if rows:
        # One Core insert for the batch: the rows are not needed as ORM objects in this session,
        # and building, tracking and flushing them was most of the step's CPU (docs/PERFORMANCE.md).
        session.execute(insert(cast(Table, JobExecution.__table__)), rows)
    return started


def _plan(session: Session, settings: Settings, job: Job | None, request: ExecutionRequest) -> ExecutionPlan | None:
    """What the run will call, or None when it must not run (scheduled: inactive; expired: auto-paused)."""
    if job is None:
        return None
    if request.trigger_type == "scheduled":
        if not job.is_active:
            return None
        if is_expired(job.end_date, settings):
            auto_pause(session, settings, job)
            return None
    return request.plan or plan_for_job(job)


def no_target_error(job_name: str) -> str:
    return f"Job '{job_name}' has no valid target (neither GitHub Actions nor webhook URL)"


def unexpected_error(job_name: str, exc: BaseException) -> str:
    return f"Unexpected error executing job '{job_name}': {exc}"


@dataclass(frozen=True)
class ExecutionOutcome:
    """The arguments of one `finish_execution`."""

    execution_id: str
    success: bool
    response_status: int | None = None
    error_message: str | None = None
    output: str | None = None
    target: str | None = None
    attempts: int = 1
    excerpt: str | None = None


def finish_execution(
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
    outcome = ExecutionOutcome(execution_id, success, response_status, error_message, output, target)
    return finish_executions(session, [outcome])[0]


def finish_executions(session: Session, outcomes: list[ExecutionOutcome]) -> list[bool]:
    """`finish_execution` for several runs: one read of their rows, one flush."""
    ids = [outcome.execution_id for outcome in outcomes]
    rows = {row.id: row for row in session.scalars(select(JobExecution).where(JobExecution.id.in_(ids)))}
    completed = utcnow()
    for outcome in outcomes:
        execution = rows.get(outcome.execution_id)
        if execution is None:
            continue
        execution.status = "success" if outcome.success else "failed"
        execution.completed_at = completed
        execution.duration_seconds = max(0.0, (completed - execution.started_at).total_seconds())
        execution.duration_ms = round(execution.duration_seconds * 1000)
        execution.attempts = outcome.attempts
        execution.response_excerpt = outcome.excerpt
        execution.response_status = outcome.response_status
        execution.error_message = outcome.error_message
        execution.output = outcome.output[:OUTPUT_LIMIT] if outcome.output is not None else None
        if outcome.target:
            execution.target = outcome.target
    session.flush()
    return [outcome.execution_id in rows for outcome in outcomes]


def execution_status(session: Session, execution_id: str) -> ExecutionStatus | None:
    """The row's status, or None when it is gone."""
    status = session.scalar(select(JobExecution.status).where(JobExecution.id == execution_id))
    return cast(ExecutionStatus | None, status)


def announce_execution(session: Session, settings: Settings, execution_id: str) -> None:
    """Notifications (8.5), emails (8.6) and Slack (8.7) for a finalized run."""
    announce_executions(session, settings, [execution_id])


def announce_executions(session: Session, settings: Settings, execution_ids: list[str]) -> None:
    """`announce_execution` for several runs: rows, jobs, users and previous outcomes read once for all."""
    executions = [
        e for e in session.scalars(select(JobExecution).where(JobExecution.id.in_(execution_ids)))
        if e.status != "running"
    ]
    jobs = {
        job.id: job for job in session.scalars(select(Job).where(Job.id.in_(sorted({e.job_id for e in executions}))))
    }
    recovered = _previous_run_failed(session, [e for e in executions if e.status == "success"])
    notices = AllUsersNotices(session)
    for execution in executions:
        job = jobs.get(execution.job_id)
        if job is not None:
            _announce(session, settings, notices, execution, job, recovered=execution.id in recovered)
            if execution.status == "failed":
                pause_after_failures(session, settings, job)
    notices.write()


def _announce(session: Session, settings: Settings, notices: AllUsersNotices, execution: JobExecution, job: Job,
              *, recovered: bool) -> None:
    failed = execution.status == "failed"
    if failed:
        notices.add(
            "Job Failed", f'Job "{job.name}" failed: {execution.error_message}', "error",
            related_job_id=job.id, related_execution_id=execution.id,
        )
    else:
        notices.add(
            "Job Completed", f'Job "{job.name}" completed successfully.', "success",
            related_job_id=job.id, related_execution_id=execution.id,
        )
    _queue_email(session, job, execution)
    if failed:
        slack_alerts.queue_alert(
            session,
            slack_alerts.failed_text(session, settings, job, execution.trigger_type, execution.error_message),
            job_name=job.name,
        )
    elif recovered:
        slack_alerts.queue_alert(session, slack_alerts.recovered_text(session, settings, job), job_name=job.name)


def _previous_run_failed(session: Session, executions: list[JobExecution]) -> set[str]:
    """Recovery test, one statement for all: ids of the runs whose job's latest finished run
    started before them failed."""
    if not executions:
        return set()
    previous = aliased(JobExecution)
    previous_status = (
        select(previous.status)
        .where(
            previous.job_id == JobExecution.job_id,
            previous.id != JobExecution.id,
            previous.status != "running",
            previous.started_at <= JobExecution.started_at,
        )
        .order_by(previous.started_at.desc(), previous.completed_at.desc())
        .limit(1)
        .correlate(JobExecution)
        .scalar_subquery()
    )
    rows = session.execute(
        select(JobExecution.id, previous_status).where(JobExecution.id.in_([e.id for e in executions]))
    )
    return {execution_id for execution_id, status in rows if status == "failed"}


# --- email (8.6) ---------------------------------------------------------------------------


def _queue_email(session: Session, job: Job, execution: JobExecution) -> None:
    if not job.enable_email_notifications:
        return
    failed = execution.status == "failed"
    if not failed and not job.notify_on_success:
        return
    addresses = unique_emails(emails_from_text(job.notification_emails))
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
