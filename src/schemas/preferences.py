"""Response bodies of the notification and UI preference endpoints (contract 2.8, 2.9, 3.13-3.16)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from src.schemas.body_fields import Truthy
from src.schemas.common import ApiModel, UtcInstant
from src.schemas.contract_errors import INVALID_PAYLOAD, refusal


class NotificationPreferencesOut(ApiModel):
    id: str
    user_id: str
    email_on_job_success: bool
    email_on_job_failure: bool
    email_on_job_disabled: bool
    browser_notifications: bool
    daily_digest: bool
    weekly_report: bool
    created_at: UtcInstant
    updated_at: UtcInstant


class PreferencesResponse(ApiModel):
    message: str = "Notification preferences retrieved successfully"
    preferences: NotificationPreferencesOut


class PreferencesUpdatedResponse(PreferencesResponse):
    message: str = "Notification preferences updated successfully"


class JobsTableColumns(ApiModel):
    """Exactly the five column flags of contract 2.9."""

    pic_team: bool
    end_date: bool
    cron_expression: bool
    target_url: bool
    last_execution_at: bool


class UiPreferencesOut(ApiModel):
    jobs_table_columns: JobsTableColumns


class UiPreferencesResponse(ApiModel):
    preferences: UiPreferencesOut


class NotificationPreferencesUpdateRequest(BaseModel):
    """`PUT /auth/users/{id}/preferences` (3.14): a flag left out keeps its stored value."""

    model_config = ConfigDict(extra="ignore")

    email_on_job_success: Truthy = False
    email_on_job_failure: Truthy = False
    email_on_job_disabled: Truthy = False
    browser_notifications: Truthy = False
    daily_digest: Truthy = False
    weekly_report: Truthy = False


def _columns(value: Any) -> dict[str, Any]:
    if value is None:
        raise refusal("Missing required fields", '"jobs_table_columns" is required.')
    if not isinstance(value, dict):
        raise refusal(INVALID_PAYLOAD, '"jobs_table_columns" must be an object.')
    return value


class UiPreferencesUpdateRequest(BaseModel):
    """`PUT /auth/users/{id}/ui-preferences` (3.16): the five flags replace the stored ones."""

    model_config = ConfigDict(extra="ignore")

    jobs_table_columns: Annotated[dict[str, Any], BeforeValidator(_columns), WithJsonSchema({
        "type": "object",
        "properties": {name: {"description": "Any JSON value, read by truthiness; absent: the default"}
                       for name in JobsTableColumns.model_fields},
        "description": "Known keys overwrite the defaults (truthiness); unknown keys are dropped.",
    })]
