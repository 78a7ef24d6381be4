"""Notification and UI preferences of a user (contract 2.8, 2.9, 3.13-3.16) and email filtering (8.6)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.core.errors import Forbidden, NotFound, read_field, read_model
from src.models import User, UserNotificationPreferences, UserUiPreferences
from src.schemas.preferences import NotificationPreferencesUpdateRequest, UiPreferencesUpdateRequest

# The API's defaults for a new row (3.13); they differ from the model's column defaults on
# purpose (section 10: the API always creates rows with the GET defaults).
NOTIFICATION_DEFAULTS: dict[str, bool] = {
    "email_on_job_success": True,
    "email_on_job_failure": True,
    "email_on_job_disabled": False,
    "browser_notifications": False,
    "daily_digest": False,
    "weekly_report": False,
}
DEFAULT_JOBS_TABLE_COLUMNS: dict[str, bool] = {
    "pic_team": True,
    "end_date": True,
    "cron_expression": False,
    "target_url": False,
    "last_execution_at": False,
}
EMAIL_FLAG = {"success": "email_on_job_success", "failure": "email_on_job_failure"}


def _check_self_or_admin(actor: User, user_id: str, verb: Literal["access", "update"]) -> None:
    if actor.role != "admin" and actor.id != user_id:
        raise Forbidden(f"Forbidden: Cannot {verb} other users preferences")


def _existing_user_id(session: Session, user_id: str) -> str:
    if session.get(User, user_id) is None:
        raise NotFound("User not found")
    return user_id


def _notification_row(session: Session, user_id: str) -> UserNotificationPreferences:
    row = session.scalars(
        select(UserNotificationPreferences).where(UserNotificationPreferences.user_id == user_id)
    ).first()
    if row is None:
        row = UserNotificationPreferences(user_id=user_id, **NOTIFICATION_DEFAULTS)
        session.add(row)
        session.flush()
    return row


def get_notification_preferences(session: Session, actor: User, user_id: str) -> UserNotificationPreferences:
    """GET /auth/users/{id}/preferences: get-or-create with the API defaults."""
    _check_self_or_admin(actor, user_id, "access")
    return _notification_row(session, _existing_user_id(session, user_id))


def update_notification_preferences(
    session: Session, actor: User, user_id: str, read_body: Callable[[], dict[str, Any]]
) -> UserNotificationPreferences:
    """PUT /auth/users/{id}/preferences: 403, then the body, then 404; a partial update of the flags."""
    _check_self_or_admin(actor, user_id, "update")
    body = read_model(NotificationPreferencesUpdateRequest, read_body())
    row = _notification_row(session, _existing_user_id(session, user_id))
    for flag in body.model_fields_set:
        setattr(row, flag, getattr(body, flag))
    session.flush()
    return row


# --- UI preferences ------------------------------------------------------------------------


def normalize_columns(value: Mapping[str, Any] | None) -> dict[str, bool]:
    """The five default flags overwritten by supplied known keys (truthiness); unknown keys dropped."""
    columns = dict(DEFAULT_JOBS_TABLE_COLUMNS)
    for key in columns:
        if value is not None and key in value:
            columns[key] = bool(value[key])
    return columns


def _stored_columns(row: UserUiPreferences) -> dict[str, bool]:
    try:
        stored = json.loads(row.jobs_table_columns or "{}")
    except ValueError:
        stored = {}
    return normalize_columns(stored if isinstance(stored, dict) else None)


def _ui_row(session: Session, user_id: str) -> UserUiPreferences:
    row = session.scalars(select(UserUiPreferences).where(UserUiPreferences.user_id == user_id)).first()
    if row is None:
        row = UserUiPreferences(user_id=user_id, jobs_table_columns=json.dumps(DEFAULT_JOBS_TABLE_COLUMNS))
        session.add(row)
        session.flush()
    return row


def get_ui_preferences(session: Session, actor: User, user_id: str) -> dict[str, Any]:
    """GET /auth/users/{id}/ui-preferences: `{"jobs_table_columns": {...five flags}}`."""
    _check_self_or_admin(actor, user_id, "access")
    row = _ui_row(session, _existing_user_id(session, user_id))
    return {"jobs_table_columns": _stored_columns(row)}


def replace_ui_preferences(
    session: Session, actor: User, user_id: str, read_body: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """PUT /auth/users/{id}/ui-preferences: the stored columns are replaced, never merged."""
    _check_self_or_admin(actor, user_id, "update")
    payload = read_body()
    _existing_user_id(session, user_id)
    normalized = normalize_columns(read_field(UiPreferencesUpdateRequest, payload, "jobs_table_columns"))
    row = _ui_row(session, user_id)
    row.jobs_table_columns = json.dumps(normalized)
    session.flush()
    return {"jobs_table_columns": normalized}


# --- email filtering -----------------------------------------------------------------------


def email_recipients(session: Session, addresses: list[str], kind: Literal["success", "failure"]) -> list[str]:
    """The addresses still to mail (8.6): a registered user's address is dropped when their flag is off.

    One query for the whole list; a user without a preferences row counts as the defaults (true);
    addresses of non-users are always kept.
    """
    if not addresses:
        return []
    flag_column = getattr(UserNotificationPreferences, EMAIL_FLAG[kind])
    lowered = {address.strip().lower() for address in addresses}
    opted_out = set(
        session.scalars(
            select(func.lower(User.email))
            .join(UserNotificationPreferences, UserNotificationPreferences.user_id == User.id)
            .where(func.lower(User.email).in_(lowered), flag_column.is_(False))
        )
    )
    return [address for address in addresses if address.strip().lower() not in opted_out]


__all__ = [
    "DEFAULT_JOBS_TABLE_COLUMNS",
    "NOTIFICATION_DEFAULTS",
    "email_recipients",
    "get_notification_preferences",
    "get_ui_preferences",
    "normalize_columns",
    "replace_ui_preferences",
    "update_notification_preferences",
]
