"""One router per area; each mirrors a legacy blueprint and calls the same core operations."""

from fastapi import APIRouter

from src.fastapi_app.routers import auth, bulk_upload, cron, health, jobs, scheduler, users

ROUTERS: list[APIRouter] = [
    health.router, auth.router, users.router, jobs.router, bulk_upload.router, cron.router, scheduler.router,
]
