"""Legacy door: scheduler status and resync (contract 6.11)."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import scheduler_status
from src.core.roles import ADMIN
from src.flask_app.door import auth_required, db_session, render, settings
from src.schemas.scheduler import SchedulerStatusResponse

bp = Blueprint("scheduler", __name__)


def _process_state() -> scheduler_status.SchedulerProcessState:
    # This process runs no scheduler yet; the scheduler runtime will report its state here.
    return scheduler_status.NOT_RUNNING


@bp.get("/scheduler/status")
@auth_required(roles=ADMIN)
def status() -> Response:
    body = scheduler_status.scheduler_status(db_session(), settings(), _process_state())
    return render(SchedulerStatusResponse.model_validate(body))


@bp.post("/scheduler/resync")
@auth_required(roles=ADMIN)
def resync() -> Response:
    scheduler_status.require_running_leader(_process_state())
    # Unreachable until the scheduler runtime lands: only a running leader gets past the check.
    raise NotImplementedError("scheduler resync needs the scheduler runtime")
