"""A job as the API shows it (contract 2.2): its row plus what is worked out from it.

Core works the values out (next fire, latest execution, defaults, decoded columns); the response
schemas only render them, so `src.schemas` never queries or imports core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from src.config import Settings
from src.core.clock import format_local, format_utc
from src.core.cron import next_fire
from src.core.job_fields import emails_from_text, json_object
from src.core.jobs import last_execution_times
from src.core.request_settings import DEFAULT_BACKOFF_SECONDS, DEFAULT_MAX_RETRIES, stored_headers
from src.core.run_policy import job_timezone
from src.models import Job

JobView = dict[str, Any]


def job_view(job: Job | Any, last_execution_at: datetime | None, settings: Settings,
             now: datetime | None = None) -> JobView:
    """The fields of one job's representation (a `Job` or a row with its attribute names).

    `next_execution_at` is null for inactive, unparseable or never-firing jobs.
    """
    tz = job_timezone(job, settings)
    next_at = next_fire(job.cron_expression, tz, now) if job.is_active else None
    # A job in its own zone shows the instant in UTC; others keep the scheduler's offset.
    next_text = format_utc(next_at) if job.timezone else format_local(next_at, tz)
    return {
        "id": job.id,
        "name": job.name,
        "cron_expression": job.cron_expression,
        "target_url": job.target_url,
        "github_owner": job.github_owner,
        "github_repo": job.github_repo,
        "github_workflow_name": job.github_workflow_name,
        "metadata": json_object(job.job_metadata),
        "category": job.category,
        "end_date": job.end_date,
        "pic_team": job.pic_team,
        "enable_email_notifications": bool(job.enable_email_notifications),
        "notification_emails": emails_from_text(job.notification_emails),
        "notify_on_success": bool(job.notify_on_success),
        "created_by": job.created_by,
        "is_active": bool(job.is_active),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "last_execution_at": last_execution_at,
        "next_execution_at": next_text,
        "http_method": job.http_method,
        "http_header_names": list(stored_headers(job.http_headers)),
        "request_body": job.request_body,
        "timeout_seconds": job.timeout_seconds,
        "max_retries": job.max_retries if job.max_retries is not None else DEFAULT_MAX_RETRIES,
        "retry_backoff_seconds": job.retry_backoff_seconds if job.retry_backoff_seconds is not None
        else DEFAULT_BACKOFF_SECONDS,
        "signing_enabled": bool(job.signing_secret),
        "failure_threshold": job.failure_threshold or 0,
        "grace_seconds": job.grace_seconds,
        "timezone": job.timezone,
    }


def one_job_view(session: Session, settings: Settings, job: Job) -> JobView:
    """One job with its last execution time (one extra query)."""
    return job_view(job, last_execution_times(session, [job.id]).get(job.id), settings)


def new_job_view(settings: Settings, job: Job) -> JobView:
    """A job created in the caller's own transaction: it has no execution yet, so no query for one."""
    return job_view(job, None, settings)


def job_views(session: Session, settings: Settings, jobs: Sequence[Job | Any], now: datetime | None = None,
              *, every_job: bool = False) -> list[JobView]:
    """Several jobs plus one grouped max(started_at): two statements whatever the count.

    `every_job`: the jobs are the whole table, so the grouped query needs no id list.
    """
    if not jobs:
        return []
    last = last_execution_times(session) if every_job else last_execution_times(session, [job.id for job in jobs])
    return [job_view(job, last.get(job.id), settings, now) for job in jobs]
