"""Job representation (contract 2.2) and the bodies of the job and cron-tool endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.clock import format_local, format_utc
from src.core.cron import next_fire
from src.core.job_fields import emails_from_text, json_object
from src.core.job_queries import JobPage
from src.core.jobs import DeletedJob, last_execution_times
from src.core.request_settings import DEFAULT_BACKOFF_SECONDS, DEFAULT_MAX_RETRIES, stored_headers
from src.core.run_policy import job_timezone
from src.models import Job
from src.schemas.common import ApiModel, UtcInstant


def metadata_object(text: str | None) -> dict[str, Any]:
    """Stored metadata text as an object: `{}` when null, invalid JSON or not an object."""
    return json_object(text)


class JobOut(ApiModel):
    id: str
    name: str
    cron_expression: str
    target_url: str | None
    github_owner: str | None
    github_repo: str | None
    github_workflow_name: str | None
    metadata: dict[str, Any]
    category: str
    end_date: date | None
    pic_team: str | None
    enable_email_notifications: bool
    notification_emails: list[str]
    notify_on_success: bool
    created_by: str | None
    is_active: bool
    created_at: UtcInstant
    updated_at: UtcInstant
    last_execution_at: UtcInstant
    next_execution_at: str | None
    http_method: str | None = Field(None, description="null: POST when metadata is non-empty, else GET (8.1)")
    http_header_names: list[str] = Field(
        default_factory=list, description="Names of the job's extra headers; their values are never returned"
    )
    request_body: str | None = None
    timeout_seconds: int | None = Field(None, description="null: the service's outbound timeout")
    max_retries: int = 0
    retry_backoff_seconds: int = 10
    signing_enabled: bool = Field(False, description="true when calls carry Standard Webhooks signatures")
    failure_threshold: int = Field(0, description="Pause after this many consecutive failed runs; 0 never")
    grace_seconds: int | None = Field(None, description="Late alert when a fire has not started this long after")
    timezone: str | None = Field(None, description="IANA zone of the cron; null: the scheduler's")

    @classmethod
    def from_job(
        cls, job: Job | Any, last_execution_at: datetime | None, settings: Settings, now: datetime | None = None
    ) -> JobOut:
        """Render one job (a `Job` or a row with its attribute names).

        `next_execution_at` is null for inactive, unparseable or never-firing jobs. Built with
        `model_construct`: every value comes typed from the database, so validation is skipped.
        """
        tz = job_timezone(job, settings)
        next_at = next_fire(job.cron_expression, tz, now) if job.is_active else None
        # A job in its own zone shows the instant in UTC; others keep the scheduler's offset.
        next_text = format_utc(next_at) if job.timezone else format_local(next_at, tz)
        return cls.model_construct(
            id=job.id,
            name=job.name,
            cron_expression=job.cron_expression,
            target_url=job.target_url,
            github_owner=job.github_owner,
            github_repo=job.github_repo,
            github_workflow_name=job.github_workflow_name,
            metadata=metadata_object(job.job_metadata),
            category=job.category,
            end_date=job.end_date,
            pic_team=job.pic_team,
            enable_email_notifications=bool(job.enable_email_notifications),
            notification_emails=emails_from_text(job.notification_emails),
            notify_on_success=bool(job.notify_on_success),
            created_by=job.created_by,
            is_active=bool(job.is_active),
            created_at=job.created_at,
            updated_at=job.updated_at,
            last_execution_at=last_execution_at,
            next_execution_at=next_text,
            http_method=job.http_method,
            http_header_names=list(stored_headers(job.http_headers)),
            request_body=job.request_body,
            timeout_seconds=job.timeout_seconds,
            max_retries=job.max_retries if job.max_retries is not None else DEFAULT_MAX_RETRIES,
            retry_backoff_seconds=job.retry_backoff_seconds if job.retry_backoff_seconds is not None
            else DEFAULT_BACKOFF_SECONDS,
            signing_enabled=bool(job.signing_secret),
            failure_threshold=job.failure_threshold or 0,
            grace_seconds=job.grace_seconds,
            timezone=job.timezone,
        )

    @classmethod
    def build(cls, session: Session, settings: Settings, job: Job) -> JobOut:
        """One job with its last execution time (one extra query)."""
        last = last_execution_times(session, [job.id]).get(job.id)
        return cls.from_job(job, last, settings)


class JobListResponse(ApiModel):
    count: int
    jobs: list[JobOut]

    @classmethod
    def build(
        cls, session: Session, settings: Settings, jobs: Sequence[Job | Any], now: datetime | None = None
    ) -> JobListResponse:
        """All jobs plus one grouped max(started_at): two statements whatever the count."""
        last = last_execution_times(session) if jobs else {}
        rendered = [JobOut.from_job(job, last.get(job.id), settings, now) for job in jobs]
        return cls(count=len(rendered), jobs=rendered)


class JobPageResponse(ApiModel):
    """`GET /jobs` with query parameters: one page of the matching jobs and the totals."""

    count: int
    jobs: list[JobOut]
    total: int
    page: int
    limit: int
    total_pages: int

    @classmethod
    def build(cls, session: Session, settings: Settings, page: JobPage, now: datetime | None = None) -> JobPageResponse:
        last = last_execution_times(session, [job.id for job in page.jobs]) if page.jobs else {}
        rendered = [JobOut.from_job(job, last.get(job.id), settings, now) for job in page.jobs]
        return cls(count=len(rendered), jobs=rendered, total=page.total, page=page.page, limit=page.limit,
                   total_pages=page.total_pages)


class JobListDoc(JobListResponse):
    """`GET /jobs` as documented: the paging keys come only with a query parameter (contract 4.1.1)."""

    total: int | None = None
    page: int | None = None
    limit: int | None = None
    total_pages: int | None = None


class JobDetailResponse(ApiModel):
    job: JobOut

    @classmethod
    def build(cls, session: Session, settings: Settings, job: Job) -> JobDetailResponse:
        return cls(job=JobOut.build(session, settings, job))


class JobCreatedResponse(ApiModel):
    message: str = "Job created successfully"
    job: JobOut

    @classmethod
    def build(cls, session: Session, settings: Settings, job: Job) -> JobCreatedResponse:
        return cls(job=JobOut.build(session, settings, job))


class JobUpdatedResponse(ApiModel):
    message: str = "Job updated successfully"
    job: JobOut

    @classmethod
    def build(cls, session: Session, settings: Settings, job: Job) -> JobUpdatedResponse:
        return cls(job=JobOut.build(session, settings, job))


class DeletedJobOut(ApiModel):
    id: str
    name: str


class JobDeletedResponse(ApiModel):
    message: str = "Job deleted successfully"
    deleted_job: DeletedJobOut

    @classmethod
    def build(cls, deleted: DeletedJob) -> JobDeletedResponse:
        return cls(deleted_job=DeletedJobOut(id=deleted.id, name=deleted.name))


class _DropNoneErrorKeys(ApiModel):
    """Result bodies whose `error`/`message` keys appear only when they have a value."""

    # No return annotation: pydantic then documents the model's own fields in OpenAPI
    # (an annotation would replace them with a bare object).
    @model_serializer(mode="wrap")
    def _drop_unset_error(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # pydantic's wrap serializer returns Any
        data = handler(self)
        for key in ("error", "message"):
            if key in data and data[key] is None:
                del data[key]
        return data


class CronValidationResponse(_DropNoneErrorKeys):
    """4.8: valid → `{valid, message}`; invalid → `{valid, error, message}` (always 200)."""

    valid: bool
    message: str | None = None
    error: str | None = None


class CronPreviewResponse(ApiModel):
    """4.9: the next fire times in the scheduler timezone."""

    timezone: str
    next_runs: list[str]
    count: int


class CronDescriptionResponse(_DropNoneErrorKeys):
    """4.11: always 200; an invalid expression adds `error` and `message`."""

    valid: bool
    expression: str
    timezone: str
    description: str
    error: str | None = None
    message: str | None = None
