"""The caller's notifications (contract 6.9). Literal paths are declared before `<id>` ones;
Werkzeug also ranks literal segments above converters, so `/notifications/read` never reaches
the delete-one view."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import notifications
from src.flask_app.door import auth_required, current_user, db_session, query_params, render
from src.schemas.notification_queries import NotificationListQuery
from src.schemas.notifications import (
    DeletedCountResponse,
    NotificationDeletedResponse,
    NotificationOut,
    NotificationPageResponse,
    NotificationReadResponse,
    ReadAllResponse,
    UnreadCountResponse,
)
from src.schemas.query_rules import DateRangeQuery

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@auth_required()
def list_notifications() -> Response:
    page = notifications.list_notifications(db_session(), current_user(), query_params(NotificationListQuery))
    return render(NotificationPageResponse.model_validate(page))


@bp.get("/notifications/unread-count")
@auth_required()
def unread_count() -> Response:
    result = notifications.unread_count(db_session(), current_user(), query_params(DateRangeQuery))
    return render(UnreadCountResponse.model_validate(result))


@bp.put("/notifications/read-all")
@auth_required()
def mark_all_read() -> Response:
    return render(ReadAllResponse(updated_count=notifications.mark_all_read(db_session(), current_user())))


@bp.delete("/notifications/delete-read")
@bp.delete("/notifications/read")
@auth_required()
def delete_read() -> Response:
    deleted = notifications.delete_read(db_session(), current_user(), query_params(DateRangeQuery))
    return render(DeletedCountResponse(deleted_count=deleted))


@bp.put("/notifications/<notification_id>/read")
@auth_required()
def mark_read(notification_id: str) -> Response:
    notification = notifications.mark_read(db_session(), current_user(), notification_id)
    return render(NotificationReadResponse(notification=NotificationOut.model_validate(notification)))


@bp.delete("/notifications/<notification_id>")
@auth_required()
def delete_notification(notification_id: str) -> Response:
    notifications.delete_notification(db_session(), current_user(), notification_id)
    return render(NotificationDeletedResponse())
