"""Notification and UI preferences (contract 2.8, 2.9, 3.13-3.16)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.models import User, UserNotificationPreferences, UserUiPreferences
from tests.api.conftest import ApiClient
from tests.conftest import Factory

API_DEFAULTS = {
    "email_on_job_success": True,
    "email_on_job_failure": True,
    "email_on_job_disabled": False,
    "browser_notifications": False,
    "daily_digest": False,
    "weekly_report": False,
}
DEFAULT_COLUMNS = {"pic_team": True, "end_date": True, "cron_expression": False, "target_url": False,
                   "last_execution_at": False}
CANNOT_ACCESS = {"error": "Forbidden: Cannot access other users preferences"}
CANNOT_UPDATE = {"error": "Forbidden: Cannot update other users preferences"}
NOT_FOUND = {"error": "User not found"}
MISSING_ID = "00000000-0000-4000-8000-00000000beef"
UTC_INSTANT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def prefs_rows(db: Session, user_id: str) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(UserNotificationPreferences)
                     .where(UserNotificationPreferences.user_id == user_id)) or 0


def ui_rows(db: Session, user_id: str) -> list[UserUiPreferences]:
    db.expire_all()
    return list(db.scalars(select(UserUiPreferences).where(UserUiPreferences.user_id == user_id)))


# --- GET /auth/users/{id}/preferences ------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "user", "viewer"])
def test_get_own_preferences_creates_api_defaults(api: ApiClient, factory: Factory, db: Session, role: str) -> None:
    me = factory.user(role)
    response = api.get(f"/auth/users/{me.id}/preferences", token=factory.token(me))
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Notification preferences retrieved successfully"
    prefs = body["preferences"]
    assert {k: prefs[k] for k in API_DEFAULTS} == API_DEFAULTS
    assert prefs["user_id"] == me.id
    assert re.fullmatch(UTC_INSTANT, prefs["created_at"]) and re.fullmatch(UTC_INSTANT, prefs["updated_at"])
    assert prefs_rows(db, me.id) == 1


def test_get_preferences_twice_keeps_one_row(api: ApiClient, user: User, factory: Factory, db: Session) -> None:
    token = factory.token(user)
    first = api.get(f"/auth/users/{user.id}/preferences", token=token).json()["preferences"]["id"]
    second = api.get(f"/auth/users/{user.id}/preferences", token=token).json()["preferences"]["id"]
    assert first == second
    assert prefs_rows(db, user.id) == 1


def test_get_existing_preferences_returns_stored_values(api: ApiClient, user: User, factory: Factory,
                                                        db: Session) -> None:
    db.add(UserNotificationPreferences(user_id=user.id, email_on_job_failure=False, weekly_report=True))
    db.commit()
    prefs = api.get(f"/auth/users/{user.id}/preferences", token=factory.token(user)).json()["preferences"]
    assert prefs["email_on_job_failure"] is False
    assert prefs["weekly_report"] is True


def test_admin_gets_other_users_preferences(api: ApiClient, admin: User, viewer: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{viewer.id}/preferences", token=factory.token(admin))
    assert response.status_code == 200
    assert response.json()["preferences"]["user_id"] == viewer.id


def test_get_other_users_preferences_is_403(api: ApiClient, user: User, viewer: User, factory: Factory,
                                            db: Session) -> None:
    response = api.get(f"/auth/users/{viewer.id}/preferences", token=factory.token(user))
    assert response.status_code == 403
    assert response.json() == CANNOT_ACCESS
    assert prefs_rows(db, viewer.id) == 0


def test_get_preferences_403_comes_before_404(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{MISSING_ID}/preferences", token=factory.token(user))
    assert response.status_code == 403
    assert response.json() == CANNOT_ACCESS


def test_get_preferences_of_missing_user_is_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{MISSING_ID}/preferences", token=factory.token(admin))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_get_preferences_requires_token(api: ApiClient, user: User) -> None:
    assert api.get(f"/auth/users/{user.id}/preferences").status_code == 401


# --- PUT /auth/users/{id}/preferences ------------------------------------------------------


def test_put_preferences_partial_update(api: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    response = api.put(f"/auth/users/{user.id}/preferences", token=token,
                       json={"email_on_job_success": False, "daily_digest": 1, "unknown": True})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Notification preferences updated successfully"
    expected = {**API_DEFAULTS, "email_on_job_success": False, "daily_digest": True}
    assert {k: body["preferences"][k] for k in API_DEFAULTS} == expected
    again = api.get(f"/auth/users/{user.id}/preferences", token=token).json()["preferences"]
    assert {k: again[k] for k in API_DEFAULTS} == expected


def test_put_preferences_second_update_keeps_earlier_flags(api: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    api.put(f"/auth/users/{user.id}/preferences", token=token, json={"weekly_report": True})
    body = api.put(f"/auth/users/{user.id}/preferences", token=token, json={"daily_digest": True}).json()
    assert body["preferences"]["weekly_report"] is True
    assert body["preferences"]["daily_digest"] is True


def test_put_preferences_coerces_by_truthiness(api: ApiClient, user: User, factory: Factory) -> None:
    body = api.put(f"/auth/users/{user.id}/preferences", token=factory.token(user),
                   json={"email_on_job_failure": "false", "email_on_job_success": [], "browser_notifications": {"a": 1}}
                   ).json()["preferences"]
    assert body["email_on_job_failure"] is True
    assert body["email_on_job_success"] is False
    assert body["browser_notifications"] is True


def test_put_preferences_empty_object_creates_defaults(api: ApiClient, viewer: User, factory: Factory,
                                                       db: Session) -> None:
    response = api.put(f"/auth/users/{viewer.id}/preferences", token=factory.token(viewer), json={})
    assert response.status_code == 200
    assert {k: response.json()["preferences"][k] for k in API_DEFAULTS} == API_DEFAULTS
    assert prefs_rows(db, viewer.id) == 1


def test_admin_updates_other_users_preferences(api: ApiClient, admin: User, user: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{user.id}/preferences", token=factory.token(admin),
                       json={"email_on_job_failure": False})
    assert response.status_code == 200
    assert response.json()["preferences"]["user_id"] == user.id
    assert response.json()["preferences"]["email_on_job_failure"] is False


def test_put_other_users_preferences_is_403(api: ApiClient, user: User, viewer: User, factory: Factory,
                                            db: Session) -> None:
    response = api.put(f"/auth/users/{viewer.id}/preferences", token=factory.token(user),
                       json={"daily_digest": True})
    assert response.status_code == 403
    assert response.json() == CANNOT_UPDATE
    assert prefs_rows(db, viewer.id) == 0


def test_put_preferences_403_comes_before_content_type(api: ApiClient, user: User, viewer: User,
                                                       factory: Factory) -> None:
    response = api.put(f"/auth/users/{viewer.id}/preferences", token=factory.token(user), content=b"x",
                       headers={"Content-Type": "text/plain"})
    assert response.status_code == 403
    assert response.json() == CANNOT_UPDATE


def test_put_preferences_content_type_comes_before_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{MISSING_ID}/preferences", token=factory.token(admin), content=b"{}",
                       headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_put_preferences_of_missing_user_is_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{MISSING_ID}/preferences", token=factory.token(admin), json={})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("content", "content_type", "error"),
    [
        (b'{"daily_digest": true}', "text/plain", {"error": "Content-Type must be application/json"}),
        (b"{bad", "application/json", {"error": "Invalid JSON", "message": "Request body is not valid JSON."}),
        (b"[true]", "application/json", {"error": "Invalid payload", "message": "JSON body must be an object."}),
    ],
)
def test_put_preferences_bad_body_is_400_and_creates_nothing(api: ApiClient, user: User, factory: Factory,
                                                             db: Session, content: bytes, content_type: str,
                                                             error: dict[str, str]) -> None:
    response = api.put(f"/auth/users/{user.id}/preferences", token=factory.token(user), content=content,
                       headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json() == error
    assert prefs_rows(db, user.id) == 0


# --- GET /auth/users/{id}/ui-preferences ---------------------------------------------------


def test_get_ui_preferences_creates_defaults(api: ApiClient, viewer: User, factory: Factory, db: Session) -> None:
    response = api.get(f"/auth/users/{viewer.id}/ui-preferences", token=factory.token(viewer))
    assert response.status_code == 200
    assert response.json() == {"preferences": {"jobs_table_columns": DEFAULT_COLUMNS}}
    rows = ui_rows(db, viewer.id)
    assert len(rows) == 1
    assert json.loads(rows[0].jobs_table_columns or "") == DEFAULT_COLUMNS


def test_get_ui_preferences_normalizes_stored_junk(api: ApiClient, user: User, factory: Factory,
                                                   db: Session) -> None:
    db.add(UserUiPreferences(user_id=user.id, jobs_table_columns='{"target_url": 1, "extra": true}'))
    db.commit()
    body = api.get(f"/auth/users/{user.id}/ui-preferences", token=factory.token(user)).json()
    assert body == {"preferences": {"jobs_table_columns": {**DEFAULT_COLUMNS, "target_url": True}}}


def test_get_ui_preferences_with_unparseable_stored_text_gives_defaults(api: ApiClient, user: User,
                                                                         factory: Factory, db: Session) -> None:
    db.add(UserUiPreferences(user_id=user.id, jobs_table_columns="not json"))
    db.commit()
    body = api.get(f"/auth/users/{user.id}/ui-preferences", token=factory.token(user)).json()
    assert body == {"preferences": {"jobs_table_columns": DEFAULT_COLUMNS}}


def test_admin_gets_other_users_ui_preferences(api: ApiClient, admin: User, user: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{user.id}/ui-preferences", token=factory.token(admin))
    assert response.status_code == 200


def test_get_other_users_ui_preferences_is_403(api: ApiClient, user: User, viewer: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{user.id}/ui-preferences", token=factory.token(viewer))
    assert response.status_code == 403
    assert response.json() == CANNOT_ACCESS


def test_get_ui_preferences_403_before_404(api: ApiClient, viewer: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{MISSING_ID}/ui-preferences", token=factory.token(viewer))
    assert response.status_code == 403


def test_get_ui_preferences_of_missing_user_is_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{MISSING_ID}/ui-preferences", token=factory.token(admin))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --- PUT /auth/users/{id}/ui-preferences ---------------------------------------------------


def test_put_ui_preferences_normalizes_and_persists(api: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    response = api.put(f"/auth/users/{user.id}/ui-preferences", token=token,
                       json={"jobs_table_columns": {"pic_team": False, "target_url": "yes", "bogus": True}})
    assert response.status_code == 200
    expected = {**DEFAULT_COLUMNS, "pic_team": False, "target_url": True}
    assert response.json() == {"preferences": {"jobs_table_columns": expected}}
    assert api.get(f"/auth/users/{user.id}/ui-preferences", token=token).json() == {
        "preferences": {"jobs_table_columns": expected}}


def test_put_ui_preferences_replaces_instead_of_merging(api: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    api.put(f"/auth/users/{user.id}/ui-preferences", token=token,
            json={"jobs_table_columns": {"cron_expression": True, "last_execution_at": True}})
    body = api.put(f"/auth/users/{user.id}/ui-preferences", token=token,
                   json={"jobs_table_columns": {"target_url": True}}).json()
    assert body["preferences"]["jobs_table_columns"] == {**DEFAULT_COLUMNS, "target_url": True}


def test_put_ui_preferences_updates_existing_row(api: ApiClient, user: User, factory: Factory, db: Session) -> None:
    token = factory.token(user)
    api.get(f"/auth/users/{user.id}/ui-preferences", token=token)
    api.put(f"/auth/users/{user.id}/ui-preferences", token=token, json={"jobs_table_columns": {"end_date": False}})
    rows = ui_rows(db, user.id)
    assert len(rows) == 1
    assert json.loads(rows[0].jobs_table_columns or "")["end_date"] is False


def test_admin_puts_other_users_ui_preferences(api: ApiClient, admin: User, viewer: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{viewer.id}/ui-preferences", token=factory.token(admin),
                       json={"jobs_table_columns": {}})
    assert response.status_code == 200
    assert response.json() == {"preferences": {"jobs_table_columns": DEFAULT_COLUMNS}}


def test_put_other_users_ui_preferences_is_403(api: ApiClient, user: User, viewer: User, factory: Factory,
                                               db: Session) -> None:
    response = api.put(f"/auth/users/{viewer.id}/ui-preferences", token=factory.token(user),
                       json={"jobs_table_columns": {}})
    assert response.status_code == 403
    assert response.json() == CANNOT_UPDATE
    assert ui_rows(db, viewer.id) == []


def test_put_ui_preferences_403_before_content_type(api: ApiClient, user: User, viewer: User,
                                                    factory: Factory) -> None:
    response = api.put(f"/auth/users/{viewer.id}/ui-preferences", token=factory.token(user), content=b"",
                       headers={"Content-Type": "text/plain"})
    assert response.json() == CANNOT_UPDATE


def test_put_ui_preferences_content_type_before_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{MISSING_ID}/ui-preferences", token=factory.token(admin), content=b"{}",
                       headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_put_ui_preferences_404_before_field_check(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{MISSING_ID}/ui-preferences", token=factory.token(admin), json={})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("body", [{}, {"jobs_table_columns": None}, {"other": {}}])
def test_put_ui_preferences_without_columns_is_400(api: ApiClient, user: User, factory: Factory, db: Session,
                                                   body: dict[str, Any]) -> None:
    response = api.put(f"/auth/users/{user.id}/ui-preferences", token=factory.token(user), json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "Missing required fields", "message": '"jobs_table_columns" is required.'}
    assert ui_rows(db, user.id) == []


@pytest.mark.parametrize("columns", [[], "pic_team", 1, False, ["pic_team"]])
def test_put_ui_preferences_non_object_columns_is_400(api: ApiClient, user: User, factory: Factory,
                                                      columns: Any) -> None:
    response = api.put(f"/auth/users/{user.id}/ui-preferences", token=factory.token(user),
                       json={"jobs_table_columns": columns})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": '"jobs_table_columns" must be an object.'}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{bad", {"error": "Invalid JSON", "message": "Request body is not valid JSON."}),
        (b'"text"', {"error": "Invalid payload", "message": "JSON body must be an object."}),
    ],
)
def test_put_ui_preferences_bad_json_is_400(api: ApiClient, user: User, factory: Factory, content: bytes,
                                            error: dict[str, str]) -> None:
    response = api.put(f"/auth/users/{user.id}/ui-preferences", token=factory.token(user), content=content,
                       headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == error
