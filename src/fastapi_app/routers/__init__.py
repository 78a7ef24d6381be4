"""One router per area; each mirrors a legacy blueprint and calls the same core operations."""

from fastapi import APIRouter

from src.fastapi_app.routers import (
    auth,
    bulk_upload,
    categories,
    cron,
    executions,
    health,
    job_runs,
    jobs,
    notifications,
    parity,
    pic_teams,
    scheduler,
    settings,
    users,
)

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    users.router,
    jobs.router,
    job_runs.router,
    bulk_upload.router,
    cron.router,
    executions.router,
    categories.router,
    pic_teams.router,
    notifications.router,
    settings.router,
    scheduler.router,
    parity.router,
]
