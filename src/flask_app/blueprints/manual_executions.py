"""Manual run and test run (contract 4.6, 4.10) on the legacy door."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import execution_plans
from src.core.roles import ADMIN_OR_USER
from src.flask_app.door import (
    auth_required,
    current_user,
    db_session,
    json_body,
    optional_json_body,
    render,
    settings,
    wait_on_run,
)
from src.scheduler.executor import execute_manually, trial_run
from src.schemas.manual_executions import ExecuteResponse, TestRunResponse

bp = Blueprint("manual_executions", __name__)

# Upper bound on waiting for the loop: GitHub's three tries, Slack and SMTP each have their own
# timeouts well inside this.
RUN_WAIT_SECONDS = 300


@bp.post("/jobs/<job_id>/execute")
@auth_required(roles=ADMIN_OR_USER)
def execute_job(job_id: str) -> Response:
    plan = execution_plans.prepare_manual_run(db_session(), settings(), current_user(), job_id, optional_json_body)
    run = wait_on_run(
        lambda services: execute_manually(services, job_id, plan, execution_plans.MANUAL_RUN_WAIT_SECONDS),
        RUN_WAIT_SECONDS,
    )
    return render(ExecuteResponse(job_id=job_id, execution_id=run.execution_id, status=run.status))


@bp.post("/jobs/test-run")
@bp.post("/cron/test-run")
@auth_required(roles=ADMIN_OR_USER)
def test_run() -> Response:
    plan = execution_plans.prepare_trial_run(json_body())
    outcome = wait_on_run(lambda services: trial_run(services, plan), RUN_WAIT_SECONDS)
    return render(TestRunResponse.model_validate(outcome))
