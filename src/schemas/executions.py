"""Response bodies of the execution and statistics endpoints (contract 2.3, 5.1-5.6)."""

from __future__ import annotations

from pydantic import Field

from src.schemas.common import ApiModel, DateRangeOut, UtcInstant


class ExecutionOut(ApiModel):
    id: str
    job_id: str
    status: str
    trigger_type: str
    started_at: UtcInstant
    completed_at: UtcInstant
    duration_seconds: float | None
    execution_type: str | None
    target: str | None
    response_status: int | None
    error_message: str | None
    output: str | None
    attempts: int | None = Field(None, description="Calls made for this run (1 + retries); null for older rows")
    duration_ms: int | None = Field(None, description="The whole run, retries and waits included")
    response_excerpt: str | None = Field(None, description="First 1 KB of the last response body, when it is text")


class ExecutionWithJobOut(ExecutionOut):
    """An execution with its parent job's name and repository (the /executions endpoints)."""

    job_name: str
    github_repo: str | None


class JobExecutionsResponse(ApiModel):
    job_id: str
    job_name: str
    total_executions: int
    executions: list[ExecutionOut]


class JobExecutionCountsOut(ApiModel):
    total_executions: int
    success_count: int
    failed_count: int
    running_count: int
    success_rate: float
    average_duration_seconds: float | None


class JobExecutionSummaryResponse(ApiModel):
    job_id: str
    job_name: str
    statistics: JobExecutionCountsOut
    latest_execution: ExecutionOut | None


class JobRefOut(ApiModel):
    id: str
    name: str


class JobExecutionDetailResponse(ApiModel):
    job: JobRefOut
    execution: ExecutionOut


class ExecutionPageResponse(ApiModel):
    executions: list[ExecutionWithJobOut]
    total: int
    page: int
    limit: int
    total_pages: int


class ExecutionStatisticsResponse(ApiModel):
    total_executions: int
    successful_executions: int
    failed_executions: int
    running_executions: int
    success_rate: float
    average_duration_seconds: float
    range: DateRangeOut


class ExecutionDetailResponse(ApiModel):
    execution: ExecutionWithJobOut
