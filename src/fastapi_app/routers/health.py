from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from src.core.health import health_body
from src.fastapi_app.transactions import TransactionalRoute
from src.schemas.health import HealthResponse

router = APIRouter(tags=["health"], route_class=TransactionalRoute)


@router.get("/health", response_model=HealthResponse)
async def health() -> dict[str, Any]:
    # The scheduler host reports through app state once the scheduler issue lands.
    return health_body(scheduler_running=False, scheduled_jobs_count=0)
