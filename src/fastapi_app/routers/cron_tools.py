"""Cron tools (contract 4.8, 4.9, 4.11) with the plan's `/cron/*` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from src.core import cron_tools
from src.fastapi_app.dependencies import CurrentUser, SettingsDep
from src.fastapi_app.dependencies.body import body_model
from src.fastapi_app.openapi_docs import route_doc
from src.schemas.cron_bodies import CronExpressionRequest, CronPreviewRequest
from src.schemas.jobs import (
    CronDescriptionResponse,
    CronPreviewResponse,
    CronValidationResponse,
)

router = APIRouter(tags=["cron"])
VALIDATE_DOC = route_doc(CronExpressionRequest, 400, 401)
PREVIEW_DOC = route_doc(CronPreviewRequest, 400, 401)
ExpressionBody = Annotated[CronExpressionRequest, Depends(body_model(CronExpressionRequest))]
PreviewBody = Annotated[CronPreviewRequest, Depends(body_model(CronPreviewRequest))]


@router.post("/jobs/validate-cron", **VALIDATE_DOC)
@router.post("/cron/validate", **VALIDATE_DOC)
async def validate_cron(user: CurrentUser, body: ExpressionBody) -> CronValidationResponse:
    return CronValidationResponse.of(cron_tools.validate_cron(body))


@router.post("/jobs/cron-preview", **PREVIEW_DOC)
@router.post("/cron/next-runs", **PREVIEW_DOC)
async def cron_preview(user: CurrentUser, body: PreviewBody, settings: SettingsDep) -> CronPreviewResponse:
    return CronPreviewResponse.of(cron_tools.cron_preview(body, settings))


@router.post("/jobs/cron-description", **VALIDATE_DOC)
async def cron_description(
    user: CurrentUser, body: ExpressionBody, settings: SettingsDep
) -> CronDescriptionResponse:
    return CronDescriptionResponse.of(cron_tools.cron_description(body, settings))
