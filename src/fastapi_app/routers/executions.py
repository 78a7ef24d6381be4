"""Executions and statistics (contract 5.1–5.6); literal paths before `{id}` paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from src.core import executions
from src.fastapi_app.dependencies import CurrentUser, SessionDep
from src.fastapi_app.openapi_docs import error_responses
from src.schemas.execution_queries import ExecutionListQuery, ExecutionStatisticsQuery, JobExecutionsQuery
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


@router.get("/jobs/{job_id}/executions", responses=error_responses(400, 401, 404))
async def job_executions(
    job_id: str, user: CurrentUser, session: SessionDep, query: Annotated[JobExecutionsQuery, Query()]
) -> JobExecutionsResponse:
    result = await session.run_sync(lambda s: executions.job_executions(s, job_id, query))
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
    user: CurrentUser, session: SessionDep, query: Annotated[ExecutionListQuery, Query()]
) -> ExecutionPageResponse:
    result = await session.run_sync(lambda s: executions.list_executions(s, query))
    return ExecutionPageResponse.model_validate(result)


@router.get("/executions/statistics", responses=error_responses(400, 401))
@router.get("/stats/executions", responses=error_responses(400, 401))
async def execution_statistics(
    user: CurrentUser, session: SessionDep, query: Annotated[ExecutionStatisticsQuery, Query()]
) -> ExecutionStatisticsResponse:
    result = await session.run_sync(lambda s: executions.execution_statistics(s, query))
    return ExecutionStatisticsResponse.model_validate(result)


@router.get("/executions/{execution_id}", responses=error_responses(401, 404))
async def execution(execution_id: str, user: CurrentUser, session: SessionDep) -> ExecutionDetailResponse:
    row = await session.run_sync(lambda s: executions.execution_with_job(s, execution_id))
    return ExecutionDetailResponse(execution=ExecutionWithJobOut.model_validate(row))
