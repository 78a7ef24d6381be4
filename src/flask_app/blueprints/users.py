"""Legacy door: user administration and per-user preferences (contract 3.9-3.16)."""

from __future__ import annotations

from flask import Blueprint, Response

from src.core import preferences, users
from src.core.roles import ADMIN
from src.flask_app.door import auth_required, current_user, db_session, json_body, render
from src.schemas.preferences import (
    NotificationPreferencesOut,
    PreferencesResponse,
    PreferencesUpdatedResponse,
    UiPreferencesResponse,
)
from src.schemas.users import (
    DeletedUserOut,
    UserDeletedResponse,
    UserListResponse,
    UserOut,
    UserResponse,
    UserUpdatedResponse,
)

bp = Blueprint("users", __name__)


@bp.get("/auth/users")
@auth_required(roles=ADMIN)
def list_users() -> Response:
    return render(UserListResponse.of(users.list_users(db_session())))


@bp.get("/auth/users/<user_id>")
@auth_required()
def get_user(user_id: str) -> Response:
    user = users.get_user(db_session(), current_user(), user_id)
    return render(UserResponse(user=UserOut.model_validate(user)))


@bp.put("/auth/users/<user_id>")
@auth_required()
def update_user(user_id: str) -> Response:
    payload = json_body()  # the content-type/JSON check comes first (3.11)
    user, fields = users.update_user(db_session(), current_user(), user_id, payload)
    return render(UserUpdatedResponse(updated_fields=fields, user=UserOut.model_validate(user)))


@bp.delete("/auth/users/<user_id>")
@auth_required(roles=ADMIN)
def delete_user(user_id: str) -> Response:
    deleted = users.delete_user(db_session(), current_user(), user_id)
    return render(UserDeletedResponse(deleted_user=DeletedUserOut.model_validate(deleted)))


@bp.get("/auth/users/<user_id>/preferences")
@auth_required()
def get_preferences(user_id: str) -> Response:
    row = preferences.get_notification_preferences(db_session(), current_user(), user_id)
    return render(PreferencesResponse(preferences=NotificationPreferencesOut.model_validate(row)))


@bp.put("/auth/users/<user_id>/preferences")
@auth_required()
def update_preferences(user_id: str) -> Response:
    row = preferences.update_notification_preferences(db_session(), current_user(), user_id, json_body)
    return render(PreferencesUpdatedResponse(preferences=NotificationPreferencesOut.model_validate(row)))


@bp.get("/auth/users/<user_id>/ui-preferences")
@auth_required()
def get_ui_preferences(user_id: str) -> Response:
    prefs = preferences.get_ui_preferences(db_session(), current_user(), user_id)
    return render(UiPreferencesResponse.model_validate({"preferences": prefs}))


@bp.put("/auth/users/<user_id>/ui-preferences")
@auth_required()
def update_ui_preferences(user_id: str) -> Response:
    prefs = preferences.replace_ui_preferences(db_session(), current_user(), user_id, json_body)
    return render(UiPreferencesResponse.model_validate({"preferences": prefs}))
