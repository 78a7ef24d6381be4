"""Manual run and test run (contract 4.6, 4.10): the executor runs on this process's event loop."""

from __future__ import annotations

from fastapi import APIRouter

from src.core import execution_plans
from src.fastapi_app.dependencies import JsonBodyDep, ServicesDep, SessionDep, SettingsDep, WriterUser
from src.fastapi_app.dependencies.body import OptionalBodyReaderDep
from src.fastapi_app.openapi_docs import error_responses, json_body, route_doc
from src.scheduler.executor import execute_manually, trial_run
from src.schemas.manual_executions import ExecuteRequest, ExecuteResponse, TestRunRequest, TestRunResponse

router = APIRouter(tags=["jobs"])
TEST_RUN_DOC = route_doc(TestRunRequest, 400, 401, 403)


@router.post(
    "/jobs/{job_id}/execute",
    responses=error_responses(400, 401, 403, 404),
    openapi_extra=json_body(ExecuteRequest, required=False),
)
async def execute_job(
    job_id: str,
    user: WriterUser,
    read_body: OptionalBodyReaderDep,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
) -> ExecuteResponse:
    # Committed by run_sync: SQLite has one writer, and the execution writes rows of its own.
    plan = await session.run_sync(lambda s: execution_plans.prepare_manual_run(s, settings, user, job_id, read_body))
    run = await execute_manually(services, job_id, plan, execution_plans.MANUAL_RUN_WAIT_SECONDS)
    return ExecuteResponse(job_id=job_id, execution_id=run.execution_id, status=run.status)


@router.post("/jobs/test-run", **TEST_RUN_DOC)
@router.post("/cron/test-run", **TEST_RUN_DOC)
async def test_run(user: WriterUser, body: JsonBodyDep, services: ServicesDep) -> TestRunResponse:
    plan = execution_plans.prepare_trial_run(body)
    return TestRunResponse.model_validate(await trial_run(services, plan))
