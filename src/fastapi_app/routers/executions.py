"""Executions and statistics (contract 5.1–5.6); literal paths before `{id}` paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from src.core import executions
from src.fastapi_app.dependencies import CurrentUser, SessionDep
from src.fastapi_app.openapi_docs import error_responses
from src.schemas.executions import (
    ExecutionDetailResponse,
    ExecutionPageResponse,
    ExecutionStatisticsResponse,
    ExecutionWithJobOut,
    JobExecutionDetailResponse,
    JobExecutionsResponse,
    JobExecutionSummaryResponse,
)

router = APIRouter(tags=["executions"])
QueryText = Annotated[str | None, Query()]
FromQuery = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or ISO 8601 (inclusive)")]
ToQuery = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (day included) or ISO 8601 (exclusive)")]


@router.get("/jobs/{job_id}/executions", responses=error_responses(400, 401, 404))
async def job_executions(
    job_id: str,
    user: CurrentUser,
    session: SessionDep,
    limit: QueryText = None,
    status: QueryText = None,
    trigger_type: QueryText = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> JobExecutionsResponse:
    filters = executions.ExecutionFilters(
        status=status, trigger_type=trigger_type, date_from=date_from, date_to=date_to
    )
    result = await session.run_sync(lambda s: executions.job_executions(s, job_id, limit=limit, filters=filters))
    return JobExecutionsResponse.model_validate(result)


@router.get("/jobs/{job_id}/executions/stats", responses=error_responses(401, 404))
async def job_execution_stats(job_id: str, user: CurrentUser, session: SessionDep) -> JobExecutionSummaryResponse:
    return JobExecutionSummaryResponse.model_validate(
        await session.run_sync(lambda s: executions.job_execution_stats(s, job_id))
    )


@router.get("/jobs/{job_id}/executions/{execution_id}", responses=error_responses(401, 404))
async def job_execution(
    job_id: str, execution_id: str, user: CurrentUser, session: SessionDep
) -> JobExecutionDetailResponse:
    result = await session.run_sync(lambda s: executions.job_execution(s, job_id, execution_id))
    return JobExecutionDetailResponse.model_validate(result)


@router.get("/executions", responses=error_responses(400, 401))
async def list_executions(
    user: CurrentUser,
    session: SessionDep,
    page: QueryText = None,
    limit: QueryText = None,
    job_id: QueryText = None,
    status: QueryText = None,
    trigger_type: QueryText = None,
    execution_type: QueryText = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> ExecutionPageResponse:
    filters = executions.ExecutionFilters(
        status=status, trigger_type=trigger_type, execution_type=execution_type, job_id=job_id,
        date_from=date_from, date_to=date_to,
    )
    result = await session.run_sync(lambda s: executions.list_executions(s, page=page, limit=limit, filters=filters))
    return ExecutionPageResponse.model_validate(result)


@router.get("/executions/statistics", responses=error_responses(400, 401))
@router.get("/stats/executions", responses=error_responses(400, 401))
async def execution_statistics(
    user: CurrentUser, session: SessionDep, job_id: QueryText = None, date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> ExecutionStatisticsResponse:
    result = await session.run_sync(
        lambda s: executions.execution_statistics(s, job_id=job_id, date_from=date_from, date_to=date_to)
    )
    return ExecutionStatisticsResponse.model_validate(result)


@router.get("/executions/{execution_id}", responses=error_responses(401, 404))
async def execution(execution_id: str, user: CurrentUser, session: SessionDep) -> ExecutionDetailResponse:
    row = await session.run_sync(lambda s: executions.execution_with_job(s, execution_id))
    return ExecutionDetailResponse(execution=ExecutionWithJobOut.model_validate(row))
