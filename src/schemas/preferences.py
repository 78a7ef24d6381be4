"""Response bodies of the notification and UI preference endpoints (contract 2.8, 2.9, 3.13-3.16)."""

from __future__ import annotations

from src.schemas.common import ApiModel, UtcInstant


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


class NotificationPreferencesUpdateRequest(ApiModel):
    email_on_job_success: bool | None = None
    email_on_job_failure: bool | None = None
    email_on_job_disabled: bool | None = None
    browser_notifications: bool | None = None
    daily_digest: bool | None = None
    weekly_report: bool | None = None


class UiPreferencesUpdateRequest(ApiModel):
    jobs_table_columns: JobsTableColumns
