"""Cron tools (contract 4.8, 4.9, 4.11) with the plan's `/cron/*` aliases."""

from __future__ import annotations

from fastapi import APIRouter

from src.core import cron_tools
from src.fastapi_app.dependencies import CurrentUser, JsonBodyDep, SettingsDep
from src.fastapi_app.openapi_docs import route_doc
from src.schemas.jobs import (
    CronDescriptionResponse,
    CronExpressionRequest,
    CronPreviewRequest,
    CronPreviewResponse,
    CronValidationResponse,
)

router = APIRouter(tags=["cron"])
VALIDATE_DOC = route_doc(CronExpressionRequest, 400, 401)
PREVIEW_DOC = route_doc(CronPreviewRequest, 400, 401)


@router.post("/jobs/validate-cron", **VALIDATE_DOC)
@router.post("/cron/validate", **VALIDATE_DOC)
async def validate_cron(user: CurrentUser, body: JsonBodyDep) -> CronValidationResponse:
    return CronValidationResponse.of(cron_tools.validate_cron(body))


@router.post("/jobs/cron-preview", **PREVIEW_DOC)
@router.post("/cron/next-runs", **PREVIEW_DOC)
async def cron_preview(user: CurrentUser, body: JsonBodyDep, settings: SettingsDep) -> CronPreviewResponse:
    return CronPreviewResponse.of(cron_tools.cron_preview(body, settings))


@router.post("/jobs/cron-description", **VALIDATE_DOC)
async def cron_description(user: CurrentUser, body: JsonBodyDep, settings: SettingsDep) -> CronDescriptionResponse:
    return CronDescriptionResponse.of(cron_tools.cron_description(body, settings))
