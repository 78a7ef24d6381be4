from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from src.core.health import health_body
from src.fastapi_app.transactions import TransactionalRoute
from src.schemas.health import HealthResponse

router = APIRouter(tags=["health"], route_class=TransactionalRoute)


@router.get("/health", response_model=HealthResponse)
async def health(request: Request) -> dict[str, Any]:
    host = getattr(request.app.state, "scheduler_host", None)
    if host is None:
        return health_body(scheduler_running=False, scheduled_jobs_count=0)
    state = host.process_state()
    return health_body(scheduler_running=state.running, scheduled_jobs_count=state.scheduled_jobs_count)
