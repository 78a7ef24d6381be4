"""One router per area; each mirrors a legacy blueprint and calls the same core operations."""

from fastapi import APIRouter

from src.fastapi_app.routers import (
    auth,
    bulk_upload,
    categories,
    cron_tools,
    executions,
    health,
    jobs,
    manual_executions,
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
    manual_executions.router,
    bulk_upload.router,
    cron_tools.router,
    executions.router,
    categories.router,
    pic_teams.router,
    notifications.router,
    settings.router,
    scheduler.router,
    parity.router,
]
