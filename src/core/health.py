"""The health body (contract 3.1) and the database probe behind it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

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


def ping_database(connection: Session | Connection) -> None:
    """One round trip; raises the driver's error when the database cannot be reached (→ 503).

    A process whose database is gone answers its health probe 503, so a load balancer or an
    operator sees it, rather than a cheerful "healthy" from a process that can serve nothing.
    """
    connection.execute(text("SELECT 1"))
