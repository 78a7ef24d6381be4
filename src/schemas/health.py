from __future__ import annotations

from pydantic import BaseModel


class HealthResponse(BaseModel):
    status: str
    service: str
    version: str
    api: str
    timestamp: str
    scheduler_running: bool
    scheduled_jobs_count: int
