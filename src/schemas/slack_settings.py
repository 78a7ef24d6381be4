"""Response bodies of the Slack settings endpoints (contract 2.7, 6.10)."""

from __future__ import annotations

from src.schemas.common import ApiModel, UtcInstant


class SlackSettingsOut(ApiModel):
    id: str
    is_enabled: bool
    webhook_url: str | None
    channel: str | None
    created_at: UtcInstant
    updated_at: UtcInstant


class SlackSettingsResponse(ApiModel):
    slack_settings: SlackSettingsOut


class SlackSettingsUpdatedResponse(ApiModel):
    message: str = "Slack settings updated"
    slack_settings: SlackSettingsOut


class SlackSettingsUpdateRequest(ApiModel):
    is_enabled: bool | None = None
    webhook_url: str | None = None
    channel: str | None = None
