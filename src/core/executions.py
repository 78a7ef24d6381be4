"""Reading job executions and their statistics (contract 5.1-5.6).

Lists load what they render in a fixed number of statements (the parent job's name and repo come
from a join), and statistics are one aggregate query whatever the table size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from src.core.errors import NotFound, refused_request
from src.models import Job, JobExecution
from src.schemas.execution_queries import ExecutionListQuery, ExecutionStatisticsQuery, JobExecutionsQuery
from src.schemas.query_rules import DateRange

# The wire columns of an execution (2.3), plus the parent job's name and repository.
EXECUTION_COLUMNS = (
    JobExecution.id,
    JobExecution.job_id,
    JobExecution.status,
    JobExecution.trigger_type,
    JobExecution.started_at,
    JobExecution.completed_at,
    JobExecution.duration_seconds,
    JobExecution.execution_type,
    JobExecution.target,
    JobExecution.response_status,
    JobExecution.error_message,
    JobExecution.output,
    JobExecution.attempts,
    JobExecution.duration_ms,
    JobExecution.response_excerpt,
)
WITH_JOB_COLUMNS = (*EXECUTION_COLUMNS, Job.name.label("job_name"), Job.github_repo.label("github_repo"))


@dataclass(frozen=True)
class JobExecutions:
    job_id: str
    job_name: str
    total_executions: int
    executions: list[JobExecution]


@dataclass(frozen=True)
class JobExecutionCounts:
    """One job's executions counted (5.2 `statistics`); the keys differ from `ExecutionStatistics`'s by contract."""

    total_executions: int
    success_count: int
    failed_count: int
    running_count: int
    success_rate: float
    average_duration_seconds: float | None


@dataclass(frozen=True)
class JobExecutionSummary:
    """`GET /jobs/{id}/executions/stats` (5.2): the job, its counts and its latest execution."""

    job_id: str
    job_name: str
    statistics: JobExecutionCounts
    latest_execution: JobExecution | None


@dataclass(frozen=True)
class JobExecutionDetail:
    job: Job
    execution: JobExecution


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[Row[Any]]
    total: int
    page: int
    limit: int
    total_pages: int


@dataclass(frozen=True)
class ExecutionStatistics:
    """`GET /executions/statistics` (5.5): every job's executions in a date range, counted."""

    total_executions: int
    successful_executions: int
    failed_executions: int
    running_executions: int
    success_rate: float
    average_duration_seconds: float
    range: DateRange


@dataclass(frozen=True)
class ExecutionFilters:
    """Filter values shared by the execution lists (blank or empty values filter nothing)."""

    statuses: tuple[str, ...] = ()
    trigger_type: str | None = None
    execution_type: str | None = None
    job_id: str | None = None


def _count_status(status: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((JobExecution.status == status, 1), else_=0)), 0)


@dataclass(frozen=True)
class _Filter:
    """Which filters a request uses (the statement's shape) and their values (its parameters).

    Statements are built once per shape with bound values: building a statement and its cache
    key cost more than SQLite running it.
    """

    shape: tuple[bool, bool, bool, bool, bool, bool]
    params: dict[str, Any]

    @classmethod
    def of(cls, filters: ExecutionFilters, date_range: DateRange) -> _Filter:
        job_id = filters.job_id or ""
        statuses = list(filters.statuses)
        trigger_type = filters.trigger_type or ""
        execution_type = filters.execution_type or ""
        params = {"job_id": job_id, "statuses": statuses, "trigger_type": trigger_type,
                  "execution_type": execution_type, "start": date_range.start, "end": date_range.end}
        shape = (bool(job_id), bool(statuses), bool(trigger_type), bool(execution_type),
                 date_range.start is not None, date_range.end is not None)
        return cls(shape, params)

    @property
    def conditions(self) -> list[ColumnElement[bool]]:
        return _conditions(self.shape)


@cache
def _conditions(shape: tuple[bool, bool, bool, bool, bool, bool]) -> list[ColumnElement[bool]]:
    job_id, statuses, trigger_type, execution_type, start, end = shape
    conditions: list[ColumnElement[bool]] = []
    if job_id:
        conditions.append(JobExecution.job_id == bindparam("job_id"))
    if statuses:
        conditions.append(JobExecution.status.in_(bindparam("statuses", expanding=True)))
    if trigger_type:
        conditions.append(JobExecution.trigger_type == bindparam("trigger_type"))
    if execution_type:
        conditions.append(JobExecution.execution_type == bindparam("execution_type"))
    if start:
        conditions.append(JobExecution.started_at >= bindparam("start"))
    if end:
        conditions.append(JobExecution.started_at < bindparam("end"))
    return conditions


@cache
def _page_statements(
    shape: tuple[bool, bool, bool, bool, bool, bool],
) -> tuple[Select[int], Select[*tuple[Any, ...]]]:
    conditions = _conditions(shape)
    count = select(func.count()).select_from(JobExecution).where(*conditions)
    page = (
        select(*WITH_JOB_COLUMNS)
        .join(Job, Job.id == JobExecution.job_id)
        .where(*conditions)
        .order_by(*_newest_first())
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    return count, page


def _newest_first() -> tuple[Any, ...]:
    return (JobExecution.started_at.desc(), JobExecution.id.desc())


def _job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("Job not found", f"No job found with ID: {job_id}")
    return job


def job_executions(session: Session, job_id: str, query: JobExecutionsQuery) -> JobExecutions:
    """A job's most recent executions (404 for the job is checked before the query's refusal)."""
    job = _job(session, job_id)
    if query.refusal is not None:
        raise refused_request(query.refusal)
    own = _Filter.of(
        ExecutionFilters(statuses=tuple(query.statuses), trigger_type=query.trigger_type, job_id=job.id), query.range()
    )
    rows = list(
        session.scalars(
            select(JobExecution).where(*own.conditions).order_by(*_newest_first()).limit(query.limit), own.params
        )
    )
    return JobExecutions(job.id, job.name, len(rows), rows)


def job_execution_stats(session: Session, job_id: str) -> JobExecutionSummary:
    """Counts, success rate and mean successful duration (both rounded to 2) of one job."""
    job = _job(session, job_id)
    success_duration = case((JobExecution.status == "success", JobExecution.duration_seconds))
    total, success, failed, running, average = session.execute(
        select(
            func.count(),
            _count_status("success"),
            _count_status("failed"),
            _count_status("running"),
            func.avg(success_duration),
        )
        .select_from(JobExecution)
        .where(JobExecution.job_id == job.id)
    ).one()
    latest = session.scalar(
        select(JobExecution).where(JobExecution.job_id == job.id).order_by(*_newest_first()).limit(1)
    )
    statistics = JobExecutionCounts(
        total_executions=total,
        success_count=success,
        failed_count=failed,
        running_count=running,
        success_rate=round(success / total * 100, 2) if total else 0.0,
        average_duration_seconds=round(float(average), 2) if average is not None else None,
    )
    return JobExecutionSummary(job.id, job.name, statistics, latest)


def job_execution(session: Session, job_id: str, execution_id: str) -> JobExecutionDetail:
    job = _job(session, job_id)
    execution = session.get(JobExecution, execution_id)
    if execution is None or execution.job_id != job.id:
        raise NotFound("Execution not found", f"No execution found with ID: {execution_id} for job: {job_id}")
    return JobExecutionDetail(job, execution)


def list_executions(session: Session, query: ExecutionListQuery) -> ExecutionPage:
    """One page of executions across jobs, newest first, each with its job's name and repo.

    Two statements whatever the page size: a count and a joined page.
    """
    filters = ExecutionFilters(statuses=tuple(query.statuses), trigger_type=query.trigger_type,
                               execution_type=query.execution_type, job_id=query.job_id)
    where = _Filter.of(filters, query.range())
    size = query.limit
    count, page_of = _page_statements(where.shape)
    total = session.scalar(count, where.params) or 0
    rows = list(session.execute(page_of, {**where.params, "offset": (query.page - 1) * size, "limit": size}))
    return ExecutionPage(rows, total, query.page, size, math.ceil(total / size))


def execution_statistics(session: Session, query: ExecutionStatisticsQuery) -> ExecutionStatistics:
    """Counts, success rate (unrounded) and mean duration over a range, in one aggregate query.

    Grouped by status so that, with no filter, it reads only the (status, duration_seconds)
    index instead of every row of the table.
    """
    date_range = query.range()
    where = _Filter.of(ExecutionFilters(job_id=query.job_id), date_range)
    by_status = {
        status: (count, timed, duration_sum)
        for status, count, timed, duration_sum in session.execute(
            select(
                JobExecution.status,
                func.count(),
                func.count(JobExecution.duration_seconds),
                func.sum(JobExecution.duration_seconds),
            )
            .where(*where.conditions)
            .group_by(JobExecution.status),
            where.params,
        )
    }
    total = sum(count for count, _, _ in by_status.values())
    timed = sum(timed for _, timed, _ in by_status.values())
    duration_sum = sum(float(part or 0.0) for _, _, part in by_status.values())
    success, failed, running = (by_status.get(status, (0, 0, 0))[0] for status in ("success", "failed", "running"))
    average = duration_sum / timed if timed else None
    return ExecutionStatistics(
        total_executions=total,
        successful_executions=success,
        failed_executions=failed,
        running_executions=running,
        success_rate=success / total * 100 if total else 0.0,
        average_duration_seconds=float(average) if average is not None else 0.0,
        range=date_range,
    )


def execution_with_job(session: Session, execution_id: str) -> Row[*tuple[Any, ...]]:
    """One execution with its job's name and repo."""
    row = session.execute(
        select(*WITH_JOB_COLUMNS).join(Job, Job.id == JobExecution.job_id).where(JobExecution.id == execution_id)
    ).first()
    if row is None:
        raise NotFound("Execution not found", f"No execution found with ID: {execution_id}")
    return row
