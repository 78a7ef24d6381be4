"""Legacy door: scheduler status and resync (contract 6.11)."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import scheduler_status
from src.core.roles import ADMIN
from src.flask_app.door import auth_required, db_session, render, runtime, settings
from src.schemas.scheduler import SchedulerResyncResponse, SchedulerStatusResponse

bp = Blueprint("scheduler", __name__)


def _process_state() -> scheduler_status.SchedulerProcessState:
    return runtime().scheduler_state()


@bp.get("/scheduler/status")
@auth_required(roles=ADMIN)
def status() -> Response:
    body = scheduler_status.scheduler_status(db_session(), settings(), _process_state())
    return render(SchedulerStatusResponse.model_validate(body))


@bp.post("/scheduler/resync")
@auth_required(roles=ADMIN)
def resync() -> Response:
    scheduler_status.require_running_leader(_process_state())
    result = runtime().resync_scheduler()
    return render(SchedulerResyncResponse.model_validate(result.as_dict()))
