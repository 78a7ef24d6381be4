"""Scheduler status and resync (contract 6.11)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from src.core import scheduler_status
from src.fastapi_app.dependencies import AdminUser, SessionDep, SettingsDep
from src.fastapi_app.openapi_docs import error_responses
from src.scheduler.host import SchedulerHost
from src.schemas.scheduler import SchedulerResyncResponse, SchedulerStatusResponse

router = APIRouter(tags=["scheduler"])


def _host(request: Request) -> SchedulerHost | None:
    return getattr(request.app.state, "scheduler_host", None)


def _process_state(request: Request) -> scheduler_status.SchedulerProcessState:
    host = _host(request)
    return host.process_state() if host is not None else scheduler_status.NOT_RUNNING


@router.get("/scheduler/status", responses=error_responses(401, 403))
async def status(
    request: Request, user: AdminUser, session: SessionDep, settings: SettingsDep
) -> SchedulerStatusResponse:
    process = _process_state(request)
    body = await session.run_sync(lambda s: scheduler_status.scheduler_status(s, settings, process))
    return SchedulerStatusResponse.model_validate(body)


@router.post("/scheduler/resync", responses=error_responses(401, 403, 409))
async def resync(request: Request, user: AdminUser) -> SchedulerResyncResponse:
    scheduler_status.require_running_leader(_process_state(request))
    host = _host(request)
    assert host is not None
    result = await host.resync()
    return SchedulerResyncResponse.model_validate(result.as_dict())
