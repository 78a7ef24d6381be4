"""Executions and statistics (contract 5.1-5.6). Literal segments (`stats`, `statistics`) are
declared before the `<id>` routes; Werkzeug also ranks them above converters."""

from __future__ import annotations

from flask import Blueprint, Response, request

from src.core import executions
from src.flask_app.door import auth_required, db_session, render
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


def _filters() -> executions.ExecutionFilters:
    args = request.args
    return executions.ExecutionFilters(
        status=args.get("status"),
        trigger_type=args.get("trigger_type"),
        execution_type=args.get("execution_type"),
        job_id=args.get("job_id"),
        date_from=args.get("from"),
        date_to=args.get("to"),
    )


@bp.get("/jobs/<job_id>/executions")
@auth_required()
def job_executions(job_id: str) -> Response:
    result = executions.job_executions(db_session(), job_id, limit=request.args.get("limit"), filters=_filters())
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
    page = executions.list_executions(
        db_session(), page=request.args.get("page"), limit=request.args.get("limit"), filters=_filters()
    )
    return render(ExecutionPageResponse.model_validate(page))


@bp.get("/executions/statistics")
@bp.get("/stats/executions")
@auth_required()
def execution_statistics() -> Response:
    result = executions.execution_statistics(
        db_session(),
        job_id=request.args.get("job_id"),
        date_from=request.args.get("from"),
        date_to=request.args.get("to"),
    )
    return render(ExecutionStatisticsResponse.model_validate(result))


@bp.get("/executions/<execution_id>")
@auth_required()
def execution(execution_id: str) -> Response:
    row = executions.execution_with_job(db_session(), execution_id)
    return render(ExecutionDetailResponse(execution=ExecutionWithJobOut.model_validate(row)))
