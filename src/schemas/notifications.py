"""Response bodies of the notification endpoints (contract 2.4, 6.9)."""

from __future__ import annotations

from src.schemas.common import ApiModel, DateRangeOut, UtcInstant


class NotificationOut(ApiModel):
    id: str
    user_id: str
    title: str
    message: str
    type: str
    related_job_id: str | None
    related_execution_id: str | None
    is_read: bool
    read_at: UtcInstant
    created_at: UtcInstant


class NotificationPageResponse(ApiModel):
    notifications: list[NotificationOut]
    total: int
    page: int
    per_page: int
    total_pages: int
    range: DateRangeOut


class UnreadCountResponse(ApiModel):
    unread_count: int
    range: DateRangeOut


class NotificationReadResponse(ApiModel):
    message: str = "Notification marked as read"
    notification: NotificationOut


class ReadAllResponse(ApiModel):
    message: str = "All notifications marked as read"
    updated_count: int


class NotificationDeletedResponse(ApiModel):
    message: str = "Notification deleted successfully"


class DeletedCountResponse(ApiModel):
    deleted_count: int
