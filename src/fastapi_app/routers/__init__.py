"""One router per area; each mirrors a legacy blueprint and calls the same core operations."""

from fastapi import APIRouter

from src.fastapi_app.routers import bulk_upload, cron, health, jobs

ROUTERS: list[APIRouter] = [health.router, jobs.router, bulk_upload.router, cron.router]
