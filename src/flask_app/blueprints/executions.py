"""Executions and statistics (contract 5.1-5.6). Literal segments (`stats`, `statistics`) are
declared before the `<id>` routes; Werkzeug also ranks them above converters."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import executions
from src.flask_app.door import auth_required, db_session, query_params, render
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

bp = Blueprint("executions", __name__)


@bp.get("/jobs/<job_id>/executions")
@auth_required()
def job_executions(job_id: str) -> Response:
    result = executions.job_executions(db_session(), job_id, query_params(JobExecutionsQuery))
    return render(JobExecutionsResponse.model_validate(result))


@bp.get("/jobs/<job_id>/executions/stats")
@auth_required()
def job_execution_stats(job_id: str) -> Response:
    return render(JobExecutionSummaryResponse.model_validate(executions.job_execution_stats(db_session(), job_id)))


@bp.get("/jobs/<job_id>/executions/<execution_id>")
@auth_required()
def job_execution(job_id: str, execution_id: str) -> Response:
    result = executions.job_execution(db_session(), job_id, execution_id)
    return render(JobExecutionDetailResponse.model_validate(result))


@bp.get("/executions")
@auth_required()
def list_executions() -> Response:
    page = executions.list_executions(db_session(), query_params(ExecutionListQuery))
    return render(ExecutionPageResponse.model_validate(page))


@bp.get("/executions/statistics")
@bp.get("/stats/executions")
@auth_required()
def execution_statistics() -> Response:
    result = executions.execution_statistics(db_session(), query_params(ExecutionStatisticsQuery))
    return render(ExecutionStatisticsResponse.model_validate(result))


@bp.get("/executions/<execution_id>")
@auth_required()
def execution(execution_id: str) -> Response:
    row = executions.execution_with_job(db_session(), execution_id)
    return render(ExecutionDetailResponse(execution=ExecutionWithJobOut.model_validate(row)))
