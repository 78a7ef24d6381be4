"""Slack settings (contract 6.10); there is no email-settings API."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import slack_settings
from src.core.roles import ADMIN
from src.flask_app.door import auth_required, db_session, json_model, render
from src.schemas.slack_settings import (
    SlackSettingsOut,
    SlackSettingsResponse,
    SlackSettingsUpdatedResponse,
    SlackSettingsUpdateRequest,
)

bp = Blueprint("settings", __name__)


@bp.get("/settings/slack")
@auth_required(roles=ADMIN)
def get_slack_settings() -> Response:
    row = slack_settings.get_settings(db_session())
    return render(SlackSettingsResponse(slack_settings=SlackSettingsOut.model_validate(row)))


@bp.put("/settings/slack")
@auth_required(roles=ADMIN)
def update_slack_settings() -> Response:
    row = slack_settings.update_settings(db_session(), json_model(SlackSettingsUpdateRequest))
    return render(SlackSettingsUpdatedResponse(slack_settings=SlackSettingsOut.model_validate(row)))
