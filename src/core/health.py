"""The health body (contract 3.1)."""

from __future__ import annotations

from typing import Any

from src import APP_VERSION
from src.core.clock import format_utc, utcnow


def health_body(scheduler_running: bool, scheduled_jobs_count: int) -> dict[str, Any]:
    return {
        "status": "healthy",
        "service": "cron-job-scheduler",
        "version": APP_VERSION,
        "api": "v2",
        "timestamp": format_utc(utcnow()),
        "scheduler_running": scheduler_running,
        "scheduled_jobs_count": scheduled_jobs_count if scheduler_running else 0,
    }
