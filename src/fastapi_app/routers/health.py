from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from src.core.health import health_body, ping_database
from src.fastapi_app.dependencies import SessionDep
from src.fastapi_app.openapi_docs import error_responses
from src.schemas.health import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, responses=error_responses(503))
async def health(request: Request, session: SessionDep) -> dict[str, Any]:
    await session.run_sync(ping_database)
    host = getattr(request.app.state, "scheduler_host", None)
    if host is None:
        return health_body(scheduler_running=False, scheduled_jobs_count=0)
    state = host.process_state()
    return health_body(scheduler_running=state.running, scheduled_jobs_count=state.scheduled_jobs_count)
