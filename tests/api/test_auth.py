"""Login, token checks of contract 1.4, refresh, logout, verify, me, register (3.2-3.8)."""

from __future__ import annotations

import re
import time
from datetime import UTC
from typing import Any

import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.passwords import verify_password
from src.models import RevokedToken, User
from tests.api.conftest import ApiClient
from tests.conftest import PASSWORD, Factory

REQUIRED = {"error": "Email/Username and password are required"}
BAD_CREDENTIALS = {"error": "Invalid email/username or password"}
INACTIVE = {"error": "Account is inactive. Contact administrator."}
REVOKED = {"error": "Token has been revoked", "message": "Token has been revoked"}
USER_GONE = {"error": "User not found or inactive", "message": "User not found or inactive"}
ADMIN_ONLY = {
    "error": "Insufficient permissions",
    "message": "This endpoint requires one of the following roles: admin",
}
UTC_INSTANT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def claims_of(token: str, settings: Settings) -> dict[str, Any]:
    return jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])


def raw_token(settings: Settings, **claims: Any) -> str:
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "email": user.email, "role": user.role,
            "is_active": user.is_active}


def login(api: ApiClient, **body: Any) -> Any:
    return api.post("/auth/login", json=body)


# --- POST /auth/login ----------------------------------------------------------------------


def test_login_with_username_returns_tokens_and_user(api: ApiClient, user: User, settings: Settings) -> None:
    response = login(api, username=user.username, password=PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Login successful"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert {k: body["user"][k] for k in user_json(user)} == user_json(user)
    assert "password_hash" not in body["user"]
    access = claims_of(body["access_token"], settings)
    refresh = claims_of(body["refresh_token"], settings)
    assert (access["type"], access["fresh"], access["sub"]) == ("access", True, user.id)
    assert (refresh["type"], refresh["fresh"], refresh["sub"]) == ("refresh", False, user.id)
    assert access["role"] == "user" and access["email"] == user.email


def test_login_with_email_field(api: ApiClient, user: User) -> None:
    response = login(api, email=user.email, password=PASSWORD)
    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.id


def test_login_with_email_in_username_field(api: ApiClient, user: User) -> None:
    response = login(api, username=user.email, password=PASSWORD)
    assert response.status_code == 200


def test_login_prefers_username_over_email_when_both_given(api: ApiClient, user: User) -> None:
    response = login(api, username=user.username, email="nobody@example.com", password=PASSWORD)
    assert response.status_code == 200


def test_login_uses_email_when_username_is_blank(api: ApiClient, user: User) -> None:
    response = login(api, username="   ", email=user.email, password=PASSWORD)
    assert response.status_code == 200


def test_login_trims_the_identifier(api: ApiClient, user: User) -> None:
    assert login(api, username=f"  {user.username} ", password=PASSWORD).status_code == 200


def test_login_identifier_is_case_sensitive(api: ApiClient, user: User) -> None:
    response = login(api, username=user.username.upper(), password=PASSWORD)
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


def test_login_expires_in_follows_settings(api: ApiClient, factory: Factory, settings: Settings) -> None:
    # The `settings` fixture is shared with the app, so the configured lifetime is what's echoed.
    someone = factory.user("viewer")
    body = login(api, username=someone.username, password=PASSWORD).json()
    assert body["expires_in"] == settings.JWT_ACCESS_TOKEN_EXPIRES
    access = claims_of(body["access_token"], settings)
    assert access["exp"] - access["iat"] == settings.JWT_ACCESS_TOKEN_EXPIRES


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"password": PASSWORD},
        {"username": "someone"},
        {"username": "", "password": PASSWORD},
        {"username": "someone", "password": ""},
        {"username": 12345, "password": PASSWORD},
        {"username": "someone", "password": 123456},
        {"email": ["a@b.c"], "password": PASSWORD},
    ],
)
def test_login_missing_or_non_string_credentials_is_400(api: ApiClient, body: dict[str, Any]) -> None:
    response = api.post("/auth/login", json=body)
    assert response.status_code == 400
    assert response.json() == REQUIRED


def test_login_unknown_user_is_401(api: ApiClient) -> None:
    response = login(api, username="ghost", password=PASSWORD)
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


def test_login_wrong_password_is_401(api: ApiClient, user: User) -> None:
    response = login(api, username=user.username, password="wrong-password")
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


def test_login_inactive_is_checked_before_password(api: ApiClient, factory: Factory) -> None:
    inactive = factory.user("user", is_active=False)
    response = login(api, username=inactive.username, password="wrong-password")
    assert response.status_code == 401
    assert response.json() == INACTIVE


def test_login_inactive_with_right_password_is_401(api: ApiClient, factory: Factory) -> None:
    inactive = factory.user("user", is_active=False)
    response = login(api, username=inactive.username, password=PASSWORD)
    assert response.status_code == 401
    assert response.json() == INACTIVE


def test_login_wrong_content_type_is_400(api: ApiClient, user: User) -> None:
    response = api.post("/auth/login", content=b'{"username": "x", "password": "y"}',
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_login_json_with_charset_is_accepted(api: ApiClient, user: User) -> None:
    response = api.post("/auth/login", content=f'{{"username": "{user.username}", "password": "{PASSWORD}"}}',
                        headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_login_malformed_json_is_400(api: ApiClient) -> None:
    response = api.post("/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid JSON", "message": "Request body is not valid JSON."}


def test_login_non_object_json_is_400(api: ApiClient) -> None:
    response = api.post("/auth/login", json=["username", "password"])
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": "JSON body must be an object."}


# --- POST /auth/login/form -----------------------------------------------------------------


def test_login_form_urlencoded(api: ApiClient, user: User) -> None:
    response = api.post("/auth/login/form", data={"username": user.username, "password": PASSWORD,
                                                   "grant_type": "password", "scope": ""})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Login successful"
    assert body["user"]["id"] == user.id
    assert body["refresh_token"]


def test_login_form_multipart_with_email(api: ApiClient, user: User) -> None:
    response = api.post("/auth/login/form", data={"username": user.email, "password": PASSWORD},
                        files={"unused": ("x.txt", b"x")})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "form", [{}, {"username": "someone"}, {"password": PASSWORD}, {"username": "", "password": "x"}]
)
def test_login_form_missing_field_is_400(api: ApiClient, form: dict[str, str]) -> None:
    response = api.post("/auth/login/form", data=form)
    assert response.status_code == 400
    assert response.json() == REQUIRED


def test_login_form_json_body_is_the_required_400(api: ApiClient, user: User) -> None:
    response = api.post("/auth/login/form", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == REQUIRED


def test_login_form_inactive_user_is_401(api: ApiClient, factory: Factory) -> None:
    inactive = factory.user("user", is_active=False)
    response = api.post("/auth/login/form", data={"username": inactive.username, "password": PASSWORD})
    assert response.status_code == 401
    assert response.json() == INACTIVE


def test_login_form_wrong_password_is_401(api: ApiClient, user: User) -> None:
    response = api.post("/auth/login/form", data={"username": user.username, "password": "nope-nope"})
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


# --- per-request token checks (1.4) ---------------------------------------------------------


def test_missing_authorization_header_is_401(api: ApiClient) -> None:
    response = api.get("/auth/verify")
    assert response.status_code == 401
    assert response.json() == {"error": "Authorization required", "message": "Missing Authorization Header"}


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Bearer a b", "abc"])
def test_malformed_authorization_header_is_401(api: ApiClient, header: str) -> None:
    response = api.get("/auth/verify", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {
        "error": "Authorization required",
        "message": "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
    }


def test_lower_case_bearer_scheme_is_accepted(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.get("/auth/verify", headers={"Authorization": f"bearer {factory.token(user)}"})
    assert response.status_code == 200


def test_bad_signature_is_invalid_token(api: ApiClient, user: User) -> None:
    forged = jwt.encode({"sub": user.id, "type": "access", "exp": int(time.time()) + 600},
                        "not-the-secret-not-the-secret-0000", algorithm="HS256")
    response = api.get("/auth/verify", token=forged)
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid token"
    assert response.json()["message"]


def test_garbage_token_is_invalid_token(api: ApiClient) -> None:
    response = api.get("/auth/verify", token="not.a.jwt")
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid token"


def test_token_without_sub_is_invalid_token(api: ApiClient, settings: Settings) -> None:
    response = api.get("/auth/verify", token=raw_token(settings, type="access", exp=int(time.time()) + 600))
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid token"


def test_expired_token_is_401(api: ApiClient, user: User, settings: Settings) -> None:
    now = int(time.time())
    expired = raw_token(settings, sub=user.id, type="access", jti="e1", iat=now - 120, nbf=now - 120,
                        exp=now - 60, role="user", email=user.email)
    response = api.get("/auth/verify", token=expired)
    assert response.status_code == 401
    assert response.json() == {"error": "Token has expired", "message": "Token has expired"}


def test_token_minted_with_negative_lifetime_is_expired(api: ApiClient, user: User, settings: Settings) -> None:
    from src.core import tokens
    from tests.conftest import make_settings

    short = make_settings(settings.DATABASE_URL, JWT_ACCESS_TOKEN_EXPIRES=-10)
    token = tokens.mint_token(short, user, "access", fresh=True).token
    response = api.get("/auth/verify", token=token)
    assert response.status_code == 401
    assert response.json() == {"error": "Token has expired", "message": "Token has expired"}


def test_refresh_token_on_normal_endpoint_is_401(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.get("/auth/verify", token=factory.token(user, "refresh"))
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token type", "message": "Only non-refresh tokens are allowed"}


def test_token_of_deleted_user_is_401(api: ApiClient, settings: Settings) -> None:
    ghost = raw_token(settings, sub="00000000-0000-4000-8000-000000000000", type="access",
                      exp=int(time.time()) + 600)
    response = api.get("/auth/verify", token=ghost)
    assert response.status_code == 401
    assert response.json() == USER_GONE


def test_token_of_deactivated_user_stops_working(api: ApiClient, user: User, factory: Factory, db: Session) -> None:
    token = factory.token(user)
    user.is_active = False
    db.commit()
    response = api.get("/auth/verify", token=token)
    assert response.status_code == 401
    assert response.json() == USER_GONE


def test_demoted_admin_loses_admin_access_immediately(api: ApiClient, factory: Factory, db: Session) -> None:
    demoted = factory.user("admin")
    token = factory.token(demoted)
    assert api.get("/auth/users", token=token).status_code == 200
    demoted.role = "viewer"
    db.commit()
    response = api.get("/auth/users", token=token)
    assert response.status_code == 403
    assert response.json() == ADMIN_ONLY


def test_role_claim_is_not_trusted(api: ApiClient, viewer: User, settings: Settings) -> None:
    forged_role = raw_token(settings, sub=viewer.id, type="access", role="admin", exp=int(time.time()) + 600)
    response = api.get("/auth/users", token=forged_role)
    assert response.status_code == 403
    assert response.json() == ADMIN_ONLY


def test_legacy_token_without_jti_nbf_fresh_is_accepted(api: ApiClient, user: User, settings: Settings) -> None:
    legacy = raw_token(settings, sub=user.id, exp=int(time.time()) + 600)
    response = api.get("/auth/verify", token=legacy)
    assert response.status_code == 200
    assert response.json()["user_id"] == user.id


def test_token_with_csrf_claim_is_accepted(api: ApiClient, user: User, settings: Settings) -> None:
    token = raw_token(settings, sub=user.id, type="access", csrf="abc", exp=int(time.time()) + 600)
    assert api.get("/auth/verify", token=token).status_code == 200


# --- POST /auth/refresh --------------------------------------------------------------------


def test_refresh_issues_non_fresh_access_token(
    api: ApiClient, user: User, factory: Factory, settings: Settings
) -> None:
    response = api.post("/auth/refresh", token=factory.token(user, "refresh"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"access_token", "token_type", "expires_in"}
    assert "refresh_token" not in body
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.JWT_ACCESS_TOKEN_EXPIRES
    claims = claims_of(body["access_token"], settings)
    assert (claims["type"], claims["fresh"], claims["sub"]) == ("access", False, user.id)
    assert api.get("/auth/verify", token=body["access_token"]).status_code == 200


def test_refresh_claims_come_from_current_row(api: ApiClient, user: User, factory: Factory, db: Session,
                                              settings: Settings) -> None:
    refresh = factory.token(user, "refresh")
    user.role = "viewer"
    user.email = "renamed@example.com"
    db.commit()
    claims = claims_of(api.post("/auth/refresh", token=refresh).json()["access_token"], settings)
    assert claims["role"] == "viewer"
    assert claims["email"] == "renamed@example.com"


def test_refresh_ignores_any_body(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.post("/auth/refresh", token=factory.token(user, "refresh"), content=b"null",
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 200


def test_refresh_with_access_token_is_401(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.post("/auth/refresh", token=factory.token(user))
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token type", "message": "Only refresh tokens are allowed"}


def test_refresh_without_header_is_401(api: ApiClient) -> None:
    response = api.post("/auth/refresh")
    assert response.status_code == 401
    assert response.json() == {"error": "Authorization required", "message": "Missing Authorization Header"}


def test_refresh_for_inactive_user_is_401(api: ApiClient, factory: Factory) -> None:
    inactive = factory.user("user", is_active=False)
    response = api.post("/auth/refresh", token=factory.token(inactive, "refresh"))
    assert response.status_code == 401
    assert response.json() == USER_GONE


# --- POST /auth/logout ---------------------------------------------------------------------


def test_logout_revokes_the_access_token(api: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    response = api.post("/auth/logout", token=token)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Logout successful"
    assert isinstance(body["detail"], str)
    again = api.get("/auth/verify", token=token)
    assert again.status_code == 401
    assert again.json() == REVOKED


def test_logout_leaves_other_access_tokens_working(api: ApiClient, user: User, factory: Factory) -> None:
    first, second = factory.token(user), factory.token(user)
    api.post("/auth/logout", token=first)
    assert api.get("/auth/verify", token=second).status_code == 200


def test_logout_revokes_refresh_token_from_body(api: ApiClient, user: User, factory: Factory) -> None:
    refresh = factory.token(user, "refresh")
    response = api.post("/auth/logout", token=factory.token(user), json={"refresh_token": refresh})
    assert response.status_code == 200
    again = api.post("/auth/refresh", token=refresh)
    assert again.status_code == 401
    assert again.json() == REVOKED


def test_logout_ignores_refresh_token_of_another_user(api: ApiClient, user: User, viewer: User,
                                                      factory: Factory) -> None:
    others = factory.token(viewer, "refresh")
    assert api.post("/auth/logout", token=factory.token(user), json={"refresh_token": others}).status_code == 200
    assert api.post("/auth/refresh", token=others).status_code == 200


def test_logout_ignores_an_access_token_in_the_refresh_field(api: ApiClient, user: User, factory: Factory,
                                                             db: Session) -> None:
    other_access = factory.token(user)
    api.post("/auth/logout", token=factory.token(user), json={"refresh_token": other_access})
    assert api.get("/auth/verify", token=other_access).status_code == 200
    assert len(db.scalars(select(RevokedToken)).all()) == 1


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{broken", "application/json"), (b"[1, 2]", "application/json"), (b"hello", "text/plain"),
     (b'{"refresh_token": 5}', "application/json"), (b'{"refresh_token": "garbage"}', "application/json")],
)
def test_logout_ignores_unusable_bodies(api: ApiClient, user: User, factory: Factory, content: bytes,
                                        content_type: str) -> None:
    token = factory.token(user)
    response = api.post("/auth/logout", token=token, content=content, headers={"Content-Type": content_type})
    assert response.status_code == 200
    assert api.get("/auth/verify", token=token).json() == REVOKED


def test_logout_with_revoked_token_is_401(api: ApiClient, user: User, factory: Factory) -> None:
    token = factory.token(user)
    api.post("/auth/logout", token=token)
    response = api.post("/auth/logout", token=token)
    assert response.status_code == 401
    assert response.json() == REVOKED


def test_logout_requires_a_token(api: ApiClient) -> None:
    response = api.post("/auth/logout")
    assert response.status_code == 401
    assert response.json()["error"] == "Authorization required"


def test_logout_with_refresh_token_in_header_is_401(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.post("/auth/logout", token=factory.token(user, "refresh"))
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token type", "message": "Only non-refresh tokens are allowed"}


def test_logout_of_legacy_token_without_jti_succeeds(api: ApiClient, user: User, settings: Settings) -> None:
    legacy = raw_token(settings, sub=user.id, exp=int(time.time()) + 600)
    assert api.post("/auth/logout", token=legacy).status_code == 200


def test_logout_records_revocation_until_expiry(api: ApiClient, user: User, factory: Factory, db: Session,
                                                settings: Settings) -> None:
    token = factory.token(user)
    api.post("/auth/logout", token=token)
    claims = claims_of(token, settings)
    row = db.get(RevokedToken, claims["jti"])
    assert row is not None
    assert int(row.expires_at.replace(tzinfo=UTC).timestamp()) == claims["exp"]


# --- GET /auth/verify, GET /auth/me ----------------------------------------------------------


def test_verify_returns_the_caller(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.get("/auth/verify", token=factory.token(user))
    assert response.status_code == 200
    assert response.json() == {"valid": True, "user_id": user.id, "username": user.username, "role": "user",
                               "message": "Token is valid"}


def test_me_returns_user_nested_and_flat(api: ApiClient, viewer: User, factory: Factory) -> None:
    response = api.get("/auth/me", token=factory.token(viewer))
    assert response.status_code == 200
    body = response.json()
    expected = user_json(viewer)
    assert {k: body["user"][k] for k in expected} == expected
    assert {k: body[k] for k in expected} == expected
    assert body["created_at"] == body["user"]["created_at"]
    assert body["updated_at"] == body["user"]["updated_at"]
    assert "password_hash" not in body and "password_hash" not in body["user"]


def test_me_timestamps_are_utc_millis(api: ApiClient, user: User, factory: Factory) -> None:
    body = api.get("/auth/me", token=factory.token(user)).json()
    assert re.fullmatch(UTC_INSTANT, body["created_at"])
    assert re.fullmatch(UTC_INSTANT, body["user"]["updated_at"])


# --- POST /auth/register -------------------------------------------------------------------


def register(api: ApiClient, token: str, **body: Any) -> Any:
    return api.post("/auth/register", token=token, json=body)


def test_register_creates_a_viewer_by_default(api: ApiClient, admin: User, factory: Factory, db: Session) -> None:
    response = register(api, factory.token(admin), username="  NewPerson ", email=" New.Person@Example.COM ",
                        password="pass1234")
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "User registered successfully"
    assert body["user"]["username"] == "NewPerson"
    assert body["user"]["email"] == "new.person@example.com"
    assert body["user"]["role"] == "viewer"
    assert body["user"]["is_active"] is True
    assert "password_hash" not in body["user"]
    stored = db.get(User, body["user"]["id"])
    assert stored is not None
    assert stored.password_hash.startswith("$pbkdf2-sha256$")
    assert verify_password("pass1234", stored.password_hash)


def test_a_password_of_5000_characters_is_registered_and_logs_in(api: ApiClient, admin: User, factory: Factory) -> None:
    # No maximum length in 3.8: a long password is hashed at the cost of a short one.
    response = register(api, factory.token(admin), username="longpass", email="long@example.com", password="x" * 5000)
    assert response.status_code == 201
    assert login(api, username="longpass", password="x" * 5000).status_code == 200
    assert login(api, username="longpass", password="x" * 4999).json() == BAD_CREDENTIALS


def test_registered_user_can_log_in(api: ApiClient, admin: User, factory: Factory) -> None:
    register(api, factory.token(admin), username="carol", email="carol@example.com", password="pass1234")
    assert login(api, username="carol", password="pass1234").status_code == 200
    assert login(api, email="carol@example.com", password="pass1234").status_code == 200


def test_register_with_role_and_inactive(api: ApiClient, admin: User, factory: Factory) -> None:
    response = register(api, factory.token(admin), username="dave", email="dave@example.com", password="pass1234",
                        role="user", is_active=False)
    assert response.status_code == 201
    assert response.json()["user"]["role"] == "user"
    assert response.json()["user"]["is_active"] is False


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, ["username", "email", "password"]),
        ({"username": "eve"}, ["email", "password"]),
        ({"username": " ", "email": "e@example.com", "password": "pass1234"}, ["username"]),
        ({"username": "eve", "email": 5, "password": "pass1234"}, ["email"]),
        ({"username": "eve", "email": "e@example.com", "password": None}, ["password"]),
    ],
)
def test_register_missing_fields_is_400(api: ApiClient, admin: User, factory: Factory, body: dict[str, Any],
                                        missing: list[str]) -> None:
    response = api.post("/auth/register", token=factory.token(admin), json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "Missing required fields", "missing": missing}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"username": "ab"}, {"error": "Username must be at least 3 characters long"}),
        ({"username": "x" * 81}, {"error": "Username must be at most 80 characters long"}),
        ({"email": "not-an-email"}, {"error": "Invalid email", "message": "Email address is not valid."}),
        ({"email": "a b@example.com"}, {"error": "Invalid email", "message": "Email address is not valid."}),
        ({"email": "a" * 110 + "@example.com"}, {"error": "Invalid email", "message": "Email address is not valid."}),
        ({"password": "12345"}, {"error": "Password must be at least 6 characters long"}),
        ({"role": "superuser"}, {"error": "Invalid role", "message": "Role must be one of: admin, user, viewer"}),
        ({"role": 1}, {"error": "Invalid role", "message": "Role must be one of: admin, user, viewer"}),
    ],
)
def test_register_invalid_field_is_400(api: ApiClient, admin: User, factory: Factory, db: Session,
                                       fields: dict[str, Any], error: dict[str, Any]) -> None:
    body = {"username": "frank", "email": "frank@example.com", "password": "pass1234", **fields}
    response = api.post("/auth/register", token=factory.token(admin), json=body)
    assert response.status_code == 400
    assert response.json() == error
    assert db.scalars(select(User).where(User.email == "frank@example.com")).first() is None


def test_register_checks_username_length_before_email(api: ApiClient, admin: User, factory: Factory) -> None:
    response = register(api, factory.token(admin), username="ab", email="bad", password="1")
    assert response.json() == {"error": "Username must be at least 3 characters long"}


def test_register_checks_password_before_role(api: ApiClient, admin: User, factory: Factory) -> None:
    response = register(api, factory.token(admin), username="abc", email="abc@example.com", password="1", role="x")
    assert response.json() == {"error": "Password must be at least 6 characters long"}


def test_register_checks_username_before_a_non_string_role(api: ApiClient, admin: User, factory: Factory) -> None:
    response = register(api, factory.token(admin), username="ab", email="abc@example.com", password="pass1234", role=7)
    assert response.json() == {"error": "Username must be at least 3 characters long"}


def test_register_duplicate_username_is_409(api: ApiClient, admin: User, user: User, factory: Factory) -> None:
    response = register(api, factory.token(admin), username=user.username, email="other@example.com",
                        password="pass1234")
    assert response.status_code == 409
    assert response.json() == {"error": "Username already exists"}


def test_register_duplicate_email_any_case_is_409(api: ApiClient, admin: User, user: User, factory: Factory) -> None:
    response = register(api, factory.token(admin), username="brandnew", email=user.email.upper(),
                        password="pass1234")
    assert response.status_code == 409
    assert response.json() == {"error": "Email already exists"}


def test_register_username_conflict_is_reported_before_email(api: ApiClient, admin: User, user: User,
                                                             factory: Factory) -> None:
    response = register(api, factory.token(admin), username=user.username, email=user.email, password="pass1234")
    assert response.json() == {"error": "Username already exists"}


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_register_by_non_admin_is_403(api: ApiClient, factory: Factory, role: str) -> None:
    caller = factory.user(role)
    response = register(api, factory.token(caller), username="zed", email="zed@example.com", password="pass1234")
    assert response.status_code == 403
    assert response.json() == ADMIN_ONLY


def test_register_role_gate_comes_before_body_checks(api: ApiClient, user: User, factory: Factory) -> None:
    response = api.post("/auth/register", token=factory.token(user), content=b"x",
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 403


def test_register_requires_a_token(api: ApiClient) -> None:
    response = api.post("/auth/register", json={"username": "zed", "email": "zed@example.com", "password": "x" * 8})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("content", "content_type", "error"),
    [
        (b'{"username": "zed"}', "text/plain", {"error": "Content-Type must be application/json"}),
        (b"{nope", "application/json", {"error": "Invalid JSON", "message": "Request body is not valid JSON."}),
        (b'"zed"', "application/json", {"error": "Invalid payload", "message": "JSON body must be an object."}),
    ],
)
def test_register_bad_body_is_400(api: ApiClient, admin: User, factory: Factory, db: Session, content: bytes,
                                  content_type: str, error: dict[str, str]) -> None:
    count = len(db.scalars(select(User)).all())
    response = api.post("/auth/register", token=factory.token(admin), content=content,
                        headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json() == error
    db.expire_all()
    assert len(db.scalars(select(User)).all()) == count


# --- failed-login throttle (1.3, 429) --------------------------------------------------------


def exhaust(api: ApiClient, username: str, path: str = "/auth/login") -> None:
    from src.core.login_throttle import MAX_FAILURES

    for _ in range(MAX_FAILURES):
        if path == "/auth/login":
            response = login(api, username=username, password="wrong-password")
        else:
            response = api.post(path, data={"username": username, "password": "wrong-password"})
        assert response.status_code == 401


def test_too_many_failed_logins_is_429_even_with_the_right_password(api: ApiClient, user: User) -> None:
    exhaust(api, user.username)
    response = login(api, username=user.username, password=PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == "Too many attempts"
    assert 1 <= int(response.headers["Retry-After"]) <= 900


def test_login_form_shares_the_failed_login_limit(api: ApiClient, user: User) -> None:
    exhaust(api, user.username, "/auth/login/form")
    response = api.post("/auth/login/form", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert login(api, username=user.username, password=PASSWORD).status_code == 429


def test_throttle_on_one_account_leaves_others_alone(api: ApiClient, user: User, viewer: User) -> None:
    exhaust(api, user.username)
    assert login(api, username=viewer.username, password=PASSWORD).status_code == 200


def test_successful_login_resets_the_failure_count(api: ApiClient, user: User) -> None:
    from src.core.login_throttle import MAX_FAILURES

    for _ in range(MAX_FAILURES - 1):
        login(api, username=user.username, password="wrong-password")
    assert login(api, username=user.username, password=PASSWORD).status_code == 200
    login(api, username=user.username, password="wrong-password")
    assert login(api, username=user.username, password=PASSWORD).status_code == 200


def test_missing_credentials_do_not_count_as_failures(api: ApiClient, user: User) -> None:
    from src.core.login_throttle import MAX_FAILURES

    for _ in range(MAX_FAILURES + 1):
        assert login(api, username=user.username).status_code == 400
    assert login(api, username=user.username, password=PASSWORD).status_code == 200
