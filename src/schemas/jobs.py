"""Job representation (contract 2.2) and the bodies of the job and cron-tool endpoints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol, Self

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from src.schemas.common import ApiModel, UtcInstant
from src.schemas.cron_bodies import INVALID_CRON

# One job's field values, worked out by core (`src.core.job_views`).
JobView = Mapping[str, Any]


class _Page(Protocol):
    @property
    def total(self) -> int: ...

    @property
    def page(self) -> int: ...

    @property
    def limit(self) -> int: ...

    @property
    def total_pages(self) -> int: ...


class _Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


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
    def from_view(cls, view: JobView) -> JobOut:
        """Built with `model_construct`: core's values come typed from the database, so validation is skipped."""
        return cls.model_construct(**view)


class JobListResponse(ApiModel):
    count: int
    jobs: list[JobOut]

    @classmethod
    def of(cls, views: Sequence[JobView]) -> JobListResponse:
        rendered = [JobOut.from_view(view) for view in views]
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
    def of(cls, page: _Page, views: Sequence[JobView]) -> JobPageResponse:
        rendered = [JobOut.from_view(view) for view in views]
        return cls(count=len(rendered), jobs=rendered, total=page.total, page=page.page, limit=page.limit,
                   total_pages=page.total_pages)


def job_list_body(views: Sequence[JobView]) -> bytes:
    """The JSON body of `GET /jobs` without query parameters."""
    return JobListResponse.of(views).model_dump_json(by_alias=True).encode()


def job_page_body(page: _Page, views: Sequence[JobView]) -> bytes:
    """The JSON body of `GET /jobs` with query parameters."""
    return JobPageResponse.of(page, views).model_dump_json(by_alias=True).encode()


class JobListDoc(JobListResponse):
    """`GET /jobs` as documented: the paging keys come only with a query parameter (contract 4.1.1)."""

    total: int | None = None
    page: int | None = None
    limit: int | None = None
    total_pages: int | None = None


class _OneJobBody(ApiModel):
    """A body holding one `job` (each subclass declares it after its own keys)."""

    @classmethod
    def of(cls, view: JobView) -> Self:
        return cls.model_validate({"job": JobOut.from_view(view)})


class JobDetailResponse(_OneJobBody):
    job: JobOut


class JobCreatedResponse(_OneJobBody):
    message: str = "Job created successfully"
    job: JobOut


class JobUpdatedResponse(_OneJobBody):
    message: str = "Job updated successfully"
    job: JobOut


class DeletedJobOut(ApiModel):
    id: str
    name: str


class JobDeletedResponse(ApiModel):
    message: str = "Job deleted successfully"
    deleted_job: DeletedJobOut

    @classmethod
    def of(cls, deleted: _Named) -> JobDeletedResponse:
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




class _CronCheck(Protocol):
    @property
    def problem(self) -> str | None: ...


class _CronPreview(Protocol):
    @property
    def timezone(self) -> str: ...

    @property
    def next_runs(self) -> list[str]: ...


class _CronDescription(Protocol):
    @property
    def expression(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def problem(self) -> str | None: ...


class CronValidationResponse(_DropNoneErrorKeys):
    """4.8: valid → `{valid, message}`; invalid → `{valid, error, message}` (always 200)."""

    valid: bool
    message: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, check: _CronCheck) -> CronValidationResponse:
        if check.problem is None:
            return cls(valid=True, message="Valid cron expression")
        return cls(valid=False, error=INVALID_CRON, message=check.problem)


class CronPreviewResponse(ApiModel):
    """4.9: the next fire times in the scheduler timezone."""

    timezone: str
    next_runs: list[str]
    count: int

    @classmethod
    def of(cls, preview: _CronPreview) -> CronPreviewResponse:
        return cls(timezone=preview.timezone, next_runs=preview.next_runs, count=len(preview.next_runs))


class CronDescriptionResponse(_DropNoneErrorKeys):
    """4.11: always 200; an invalid expression adds `error` and `message`."""

    valid: bool
    expression: str
    timezone: str
    description: str
    error: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, described: _CronDescription) -> CronDescriptionResponse:
        if described.problem is not None:
            return cls(valid=False, expression=described.expression, timezone=described.timezone, description="",
                       error=INVALID_CRON, message=described.problem)
        return cls(valid=True, expression=described.expression, timezone=described.timezone,
                   description=described.description)

