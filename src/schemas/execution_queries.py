"""Query strings of the execution lists and statistics (contract 5.1, 5.4, 5.5)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from src.schemas.query_rules import DateRangeQuery, DeferredRefusal, QueryText, lenient_int, split_list

JOB_LIST_DEFAULT_LIMIT = 50
PAGE_DEFAULT_LIMIT = 20
MAX_LIMIT = 200
# Far beyond any real page, small enough that the OFFSET still fits a 64-bit integer.
MAX_PAGE = 10**9


class _ExecutionFilters(DateRangeQuery):
    status: Annotated[QueryText, Field(description="One of success, failed, running, or a comma-separated list")] = None
    trigger_type: QueryText = None

    @property
    def statuses(self) -> list[str]:
        return split_list(self.status)


class JobExecutionsQuery(_ExecutionFilters, DeferredRefusal):
    """`GET /jobs/{id}/executions`: a date-range refusal is answered after the job's 404 (5.1)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    limit: lenient_int(JOB_LIST_DEFAULT_LIMIT, 1, MAX_LIMIT) = JOB_LIST_DEFAULT_LIMIT  # type: ignore[valid-type]  # an Annotated type built by lenient_int


class ExecutionListQuery(_ExecutionFilters):
    """`GET /executions` (5.4)."""

    page: lenient_int(1, 1, MAX_PAGE) = 1  # type: ignore[valid-type]  # an Annotated type built by lenient_int
    limit: lenient_int(PAGE_DEFAULT_LIMIT, 1, MAX_LIMIT) = PAGE_DEFAULT_LIMIT  # type: ignore[valid-type]  # as above
    job_id: QueryText = None
    execution_type: QueryText = None


class ExecutionStatisticsQuery(DateRangeQuery):
    """`GET /executions/statistics` (5.5)."""

    job_id: QueryText = None
