"""Slack settings (contract 6.10)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from src.core import slack_settings
from src.fastapi_app.dependencies import AdminUser, SessionDep
from src.fastapi_app.dependencies.body import body_model
from src.fastapi_app.openapi_docs import error_responses, json_body
from src.schemas.slack_settings import (
    SlackSettingsOut,
    SlackSettingsResponse,
    SlackSettingsUpdatedResponse,
    SlackSettingsUpdateRequest,
)

router = APIRouter(tags=["settings"])


@router.get("/settings/slack", responses=error_responses(401, 403))
async def get_slack_settings(user: AdminUser, session: SessionDep) -> SlackSettingsResponse:
    row = await session.run_sync(slack_settings.get_settings)
    return SlackSettingsResponse(slack_settings=SlackSettingsOut.model_validate(row))


@router.put(
    "/settings/slack", responses=error_responses(400, 401, 403), openapi_extra=json_body(SlackSettingsUpdateRequest)
)
async def update_slack_settings(
    user: AdminUser,
    body: Annotated[SlackSettingsUpdateRequest, Depends(body_model(SlackSettingsUpdateRequest))],
    session: SessionDep,
) -> SlackSettingsUpdatedResponse:
    row = await session.run_sync(lambda s: slack_settings.update_settings(s, body))
    return SlackSettingsUpdatedResponse(slack_settings=SlackSettingsOut.model_validate(row))
