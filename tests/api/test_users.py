"""User administration: list, read, update, delete (contract 3.9-3.12, 7.6)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.core.passwords import verify_password
from src.models import Job, JobExecution, Notification, User, UserNotificationPreferences, UserUiPreferences
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD, Factory

ADMIN_ONLY = {
    "error": "Insufficient permissions",
    "message": "This endpoint requires one of the following roles: admin",
}
NOT_FOUND = {"error": "User not found"}
MISSING_ID = "00000000-0000-4000-8000-00000000dead"


def snapshot(db: Session, user_id: str) -> tuple[Any, ...]:
    db.expire_all()
    row = db.get(User, user_id)
    assert row is not None
    return row.email, row.password_hash, row.role, row.is_active


# --- GET /auth/users -----------------------------------------------------------------------


def test_list_users_returns_count_and_all_users(api: ApiClient, admin: User, user: User, viewer: User,
                                                factory: Factory) -> None:
    response = api.get("/auth/users", token=factory.token(admin))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [u["id"] for u in body["users"]] == [admin.id, user.id, viewer.id]
    assert all("password_hash" not in u for u in body["users"])
    assert set(body["users"][0]) >= {"id", "username", "email", "role", "is_active", "created_at", "updated_at"}


def test_list_users_orders_by_created_then_username(api: ApiClient, admin: User, factory: Factory,
                                                    db: Session) -> None:
    late = factory.user("user", username="zz-late")
    tie_b = factory.user("user", username="bbb")
    tie_a = factory.user("user", username="aaa")
    tie_b.created_at = tie_a.created_at
    late.created_at = tie_a.created_at.replace(year=tie_a.created_at.year + 1)
    db.commit()
    names = [u["username"] for u in api.get("/auth/users", token=factory.token(admin)).json()["users"]]
    assert names == [admin.username, "aaa", "bbb", "zz-late"]


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_list_users_by_non_admin_is_403(api: ApiClient, factory: Factory, role: str) -> None:
    response = api.get("/auth/users", token=factory.token(factory.user(role)))
    assert response.status_code == 403
    assert response.json() == ADMIN_ONLY


def test_list_users_without_token_is_401(api: ApiClient) -> None:
    assert api.get("/auth/users").status_code == 401


# --- GET /auth/users/{id} ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["user", "viewer", "admin"])
def test_get_own_profile(api: ApiClient, factory: Factory, role: str) -> None:
    me = factory.user(role)
    response = api.get(f"/auth/users/{me.id}", token=factory.token(me))
    assert response.status_code == 200
    assert response.json()["user"]["id"] == me.id
    assert response.json()["user"]["username"] == me.username
    assert "password_hash" not in response.json()["user"]


def test_admin_gets_any_profile(api: ApiClient, admin: User, viewer: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{viewer.id}", token=factory.token(admin))
    assert response.status_code == 200
    assert response.json()["user"]["email"] == viewer.email


def test_get_other_profile_is_403(api: ApiClient, user: User, viewer: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{viewer.id}", token=factory.token(user))
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden. You can only view your own profile."}


def test_get_missing_profile_as_non_admin_is_403_not_404(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.get(f"/auth/users/{MISSING_ID}", token=factory.token(user))
    assert response.status_code == 403


def test_get_missing_profile_as_admin_is_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.get("/auth/users/nonexistent", token=factory.token(admin))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


# --- PUT /auth/users/{id} ------------------------------------------------------------------


def test_user_changes_own_email_and_password(api: ApiClient, user: User, factory: Factory, db: Session) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user),
                       json={"email": "  New.Mail@Example.com ", "password": "newpass1"})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "User updated successfully"
    assert body["updated_fields"] == ["email", "password"]
    assert body["user"]["email"] == "new.mail@example.com"
    db.expire_all()
    assert verify_password("newpass1", db.get(User, user.id).password_hash)  # type: ignore[union-attr]  # None here fails the test, as it should
    assert api.post("/auth/login", json={"email": "new.mail@example.com", "password": "newpass1"}).status_code == 200


def test_viewer_changes_own_password(api: ApiClient, viewer: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{viewer.id}", token=factory.token(viewer), json={"password": "another1"})
    assert response.status_code == 200
    assert response.json()["updated_fields"] == ["password"]


def test_admin_updates_all_fields_in_contract_order(api: ApiClient, admin: User, user: User, factory: Factory,
                                                    db: Session) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(admin),
                       json={"is_active": 0, "role": "viewer", "password": "pass9999", "email": "x@example.org",
                             "username": "ignored-rename"})
    assert response.status_code == 200
    body = response.json()
    assert body["updated_fields"] == ["email", "password", "role", "is_active"]
    assert body["user"]["role"] == "viewer"
    assert body["user"]["is_active"] is False
    assert body["user"]["username"] == user.username
    db.expire_all()
    assert db.get(User, user.id).username == user.username  # type: ignore[union-attr]  # None here fails the test, as it should


def test_is_active_uses_json_truthiness(api: ApiClient, admin: User, user: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(admin), json={"is_active": "false"})
    assert response.json()["user"]["is_active"] is True


def test_admin_may_demote_themselves(api: ApiClient, admin: User, factory: Factory) -> None:
    factory.user("admin")  # another active admin remains
    token = factory.token(admin)
    response = api.put(f"/auth/users/{admin.id}", token=token, json={"role": "user"})
    assert response.status_code == 200
    assert api.get("/auth/users", token=token).status_code == 403


def test_deactivated_user_cannot_log_in_and_token_stops(api: ApiClient, admin: User, user: User,
                                                         factory: Factory) -> None:
    token = factory.token(user)
    api.put(f"/auth/users/{user.id}", token=factory.token(admin), json={"is_active": False})
    assert api.get("/auth/verify", token=token).status_code == 401
    response = api.post("/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.json() == {"error": "Account is inactive. Contact administrator."}


def test_update_other_user_is_403(api: ApiClient, user: User, viewer: User, factory: Factory, db: Session) -> None:
    before = snapshot(db, viewer.id)
    response = api.put(f"/auth/users/{viewer.id}", token=factory.token(user), json={"email": "hack@example.com"})
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden. You can only update your own profile."}
    assert snapshot(db, viewer.id) == before


def test_update_missing_user_as_non_admin_is_403(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{MISSING_ID}", token=factory.token(user), json={"email": "a@b.co"})
    assert response.status_code == 403


def test_update_missing_user_as_admin_is_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{MISSING_ID}", token=factory.token(admin), json={"email": "a@b.co"})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_content_type_is_checked_before_permission(api: ApiClient, user: User, viewer: User,
                                                   factory: Factory) -> None:
    response = api.put(f"/auth/users/{viewer.id}", token=factory.token(user), content=b"{}",
                       headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{oops", {"error": "Invalid JSON", "message": "Request body is not valid JSON."}),
        (b"[]", {"error": "Invalid payload", "message": "JSON body must be an object."}),
        (b"42", {"error": "Invalid payload", "message": "JSON body must be an object."}),
    ],
)
def test_update_bad_json_is_400(api: ApiClient, user: User, factory: Factory, db: Session, content: bytes,
                                error: dict[str, str]) -> None:
    before = snapshot(db, user.id)
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user), content=content,
                       headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == error
    assert snapshot(db, user.id) == before


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.com", 42, "x@" + "y" * 120 + ".com"])
def test_update_invalid_email_is_400(api: ApiClient, user: User, factory: Factory, email: Any) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user), json={"email": email})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid email", "message": "Email address is not valid."}


def test_update_email_taken_by_other_user_is_409(api: ApiClient, user: User, viewer: User, factory: Factory,
                                                 db: Session) -> None:
    before = snapshot(db, user.id)
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user),
                       json={"email": viewer.email.upper(), "password": "newpass1"})
    assert response.status_code == 409
    assert response.json() == {"error": "Email already exists"}
    assert snapshot(db, user.id) == before


def test_update_to_own_current_email_is_applied(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user), json={"email": user.email})
    assert response.status_code == 200
    assert response.json()["updated_fields"] == ["email"]


@pytest.mark.parametrize("password", ["12345", 123456])
def test_update_short_password_is_400(api: ApiClient, user: User, factory: Factory, password: Any) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user), json={"password": password})
    assert response.status_code == 400
    assert response.json() == {"error": "Password must be at least 6 characters long"}


@pytest.mark.parametrize("role_value", ["user", "admin", None])
def test_non_admin_sending_role_is_403(api: ApiClient, user: User, factory: Factory, db: Session,
                                       role_value: Any) -> None:
    before = snapshot(db, user.id)
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user),
                       json={"email": "fine@example.com", "role": role_value})
    assert response.status_code == 403
    assert response.json() == {"error": "Only admins can change user roles"}
    assert snapshot(db, user.id) == before


def test_non_admin_sending_is_active_is_403(api: ApiClient, viewer: User, factory: Factory, db: Session) -> None:
    before = snapshot(db, viewer.id)
    response = api.put(f"/auth/users/{viewer.id}", token=factory.token(viewer),
                       json={"password": "newpass1", "is_active": True})
    assert response.status_code == 403
    assert response.json() == {"error": "Only admins can change user active status"}
    assert snapshot(db, viewer.id) == before


def test_email_is_validated_before_the_role_gate(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user), json={"email": "bad", "role": "admin"})
    assert response.json() == {"error": "Invalid email", "message": "Email address is not valid."}


@pytest.mark.parametrize("role_value", ["root", None, 3])
def test_admin_invalid_role_is_400_and_nothing_changes(api: ApiClient, admin: User, user: User, factory: Factory,
                                                       db: Session, role_value: Any) -> None:
    before = snapshot(db, user.id)
    response = api.put(f"/auth/users/{user.id}", token=factory.token(admin),
                       json={"email": "changed@example.com", "password": "changed1", "role": role_value})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid role", "message": "Role must be one of: admin, user, viewer"}
    assert snapshot(db, user.id) == before


@pytest.mark.parametrize("body", [{}, {"username": "rename"}, {"email": "", "password": None}, {"email": "   "}])
def test_nothing_to_update_is_400(api: ApiClient, user: User, factory: Factory, body: dict[str, Any]) -> None:
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user), json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "No valid fields to update"}


# --- DELETE /auth/users/{id} ---------------------------------------------------------------


def test_delete_user_removes_their_rows_and_keeps_jobs(api: ApiClient, admin: User, factory: Factory,
                                                       db: Session) -> None:
    doomed = factory.user("user")
    job = factory.job(doomed)
    execution = factory.execution(job)
    factory.notification(doomed)
    kept_note = factory.notification(admin)
    db.add_all([UserNotificationPreferences(user_id=doomed.id), UserUiPreferences(user_id=doomed.id)])
    db.commit()

    doomed_id, job_id, execution_id, kept_note_id = doomed.id, job.id, execution.id, kept_note.id

    response = api.delete(f"/auth/users/{doomed_id}", token=factory.token(admin))
    assert response.status_code == 200
    assert response.json() == {"message": "User deleted successfully",
                               "deleted_user": {"id": doomed_id, "username": doomed.username}}
    db.expunge_all()
    assert db.get(User, doomed_id) is None
    assert db.scalars(select(Notification).where(Notification.user_id == doomed_id)).all() == []
    assert db.get(Notification, kept_note_id) is not None
    assert db.scalars(select(UserNotificationPreferences).where(
        UserNotificationPreferences.user_id == doomed_id)).all() == []
    assert db.scalars(select(UserUiPreferences).where(UserUiPreferences.user_id == doomed_id)).all() == []
    kept_job = db.get(Job, job_id)
    assert kept_job is not None and kept_job.created_by is None
    assert db.get(JobExecution, execution_id) is not None


def test_deleted_users_token_stops_working(api: ApiClient, admin: User, user: User, factory: Factory) -> None:
    token = factory.token(user)
    api.delete(f"/auth/users/{user.id}", token=factory.token(admin))
    response = api.get("/auth/verify", token=token)
    assert response.status_code == 401
    assert response.json() == {"error": "User not found or inactive", "message": "User not found or inactive"}


def test_delete_self_is_400(api: ApiClient, admin: User, factory: Factory, db: Session) -> None:
    response = api.delete(f"/auth/users/{admin.id}", token=factory.token(admin))
    assert response.status_code == 400
    assert response.json() == {"error": "Cannot delete your own account"}
    db.expire_all()
    assert db.get(User, admin.id) is not None


def test_delete_missing_user_is_404(api: ApiClient, admin: User, factory: Factory) -> None:
    response = api.delete(f"/auth/users/{MISSING_ID}", token=factory.token(admin))
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_delete_by_non_admin_is_403(api: ApiClient, admin: User, factory: Factory, db: Session, role: str) -> None:
    caller = factory.user(role)
    response = api.delete(f"/auth/users/{admin.id}", token=factory.token(caller))
    assert response.status_code == 403
    assert response.json() == ADMIN_ONLY
    db.expire_all()
    assert db.get(User, admin.id) is not None


def test_delete_role_gate_comes_before_404(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.delete(f"/auth/users/{MISSING_ID}", token=factory.token(user))
    assert response.status_code == 403


def test_update_with_body_over_one_mebibyte_is_413(api: ApiClient, user: User, factory: Factory, db: Session,
                                                   settings: Any) -> None:
    before = snapshot(db, user.id)
    padding = "x" * settings.MAX_JSON_BODY_BYTES
    response = api.put(f"/auth/users/{user.id}", token=factory.token(user),
                       json={"email": "big@example.com", "padding": padding})
    assert response.status_code == 413
    assert response.json()["error"] == "Payload too large"
    assert snapshot(db, user.id) == before
