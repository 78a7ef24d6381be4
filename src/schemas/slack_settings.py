"""Response bodies of the Slack settings endpoints (contract 2.7, 6.10)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from src.schemas.body_fields import Truthy, optional_text
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


class SlackSettingsUpdateRequest(BaseModel):
    """`PUT /settings/slack` (6.10): every key optional; a key left out keeps the stored value."""

    model_config = ConfigDict(extra="ignore")

    is_enabled: Truthy = False
    webhook_url: optional_text("webhook_url") = None  # type: ignore[valid-type]  # an Annotated type built by optional_text
    channel: optional_text("channel") = None  # type: ignore[valid-type]  # as above
