"""Scheduler status and resync (contract 6.11)."""

from __future__ import annotations

from fastapi import APIRouter

from src.core import scheduler_status
from src.fastapi_app.dependencies import AdminUser, SessionDep, SettingsDep
from src.fastapi_app.openapi_docs import error_responses
from src.fastapi_app.transactions import TransactionalRoute
from src.schemas.scheduler import SchedulerResyncResponse, SchedulerStatusResponse

router = APIRouter(tags=["scheduler"], route_class=TransactionalRoute)


def _process_state() -> scheduler_status.SchedulerProcessState:
    # This process runs no scheduler yet; the scheduler runtime will report its state here.
    return scheduler_status.NOT_RUNNING


@router.get("/scheduler/status", responses=error_responses(401, 403))
async def status(user: AdminUser, session: SessionDep, settings: SettingsDep) -> SchedulerStatusResponse:
    body = await session.run_sync(lambda s: scheduler_status.scheduler_status(s, settings, _process_state()))
    return SchedulerStatusResponse.model_validate(body)


@router.post("/scheduler/resync", responses=error_responses(401, 403, 409))
async def resync(user: AdminUser) -> SchedulerResyncResponse:
    scheduler_status.require_running_leader(_process_state())
    raise NotImplementedError("scheduler resync needs the scheduler runtime")
