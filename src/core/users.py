"""Users: login, tokens for a session, registration, profile updates, deletion, first admin.

Contract 3.2-3.12, 7.6 and 1.8 (first admin). Checks run in the contract's order; nothing here
commits, so an error after a partial change leaves nothing behind once the door rolls back.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import tokens
from src.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized, read_field, read_model
from src.core.login_throttle import LoginThrottle
from src.core.passwords import hash_password, verify_password
from src.core.request_parsing import refuse_unstorable_text
from src.core.row_locks import get_locked
from src.models import (
    Job,
    Notification,
    User,
    UserNotificationPreferences,
    UserUiPreferences,
)
from src.schemas.user_bodies import (
    CREDENTIALS_REQUIRED,
    LoginForm,
    LoginRequest,
    LogoutRequest,
    RegisterRequest,
    UserUpdateRequest,
)

DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_EMAIL = "admin@example.com"
UPDATABLE_FIELDS = ("email", "password", "role", "is_active")
LAST_ADMIN_ERROR = "Cannot remove the last active admin"
LAST_ADMIN_MESSAGE = "At least one active admin must remain; make another user admin first."

# Verified against when no user matches, so an unknown identifier costs as much as a wrong
# password and response time does not reveal which accounts exist.
_TIMING_DECOY_HASH = hash_password(secrets.token_urlsafe(16))


def _bad_credentials() -> Unauthorized:
    return Unauthorized("Invalid email/username or password")


def _user_not_found() -> NotFound:
    return NotFound("User not found")


# --- login, refresh, logout ----------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    user: User
    access: tokens.IssuedToken
    refresh: tokens.IssuedToken


def login(session: Session, settings: Settings, body: LoginRequest, *,
          throttle: LoginThrottle | None = None, client: str | None = None) -> LoginResult:
    """JSON login (3.2): the identifier is `username` when non-empty, else `email`."""
    return authenticate_credentials(session, settings, body.identifier, body.password,
                                    throttle=throttle, client=client)


def read_login_form(form: Mapping[str, Any]) -> LoginForm:
    """The password form's text fields (every one storable, as 1.2 asks of JSON text) read by `LoginForm`."""
    text = {key: value for key, value in form.items() if isinstance(value, str)}
    refuse_unstorable_text(list(text.values()))
    return read_model(LoginForm, text)


def login_form(session: Session, settings: Settings, body: LoginForm, *,
               throttle: LoginThrottle | None = None, client: str | None = None) -> LoginResult:
    """OAuth2 password-form login (3.3): `username` holds a username or an email."""
    return authenticate_credentials(session, settings, body.identifier, body.password,
                                    throttle=throttle, client=client)


def authenticate_credentials(session: Session, settings: Settings, identifier: str, password: str, *,
                             throttle: LoginThrottle | None = None, client: str | None = None) -> LoginResult:
    """Checks 2-5 of 3.2 in order (inactive before password), then a fresh token pair.

    With a throttle, an identifier or client with too many recent failures gets 429 before any
    password is verified; every 401 is counted (and committed with it) and a success clears the
    (identifier, client) pair.
    """
    # Passwords are not trimmed: surrounding spaces are part of the secret.
    if not identifier or not password:
        raise Invalid(CREDENTIALS_REQUIRED)
    if throttle is None:
        return _verify_credentials(session, settings, identifier, password)
    # The check's reads (keys, trust, counters) serve the outcome too: a success from a client
    # trusted lately with no failures then writes nothing (src/core/login_throttle.py).
    attempt = throttle.check(session, identifier, client)
    try:
        result = _verify_credentials(session, settings, identifier, password)
    except Unauthorized as error:
        throttle.record_failure(session, identifier, client, attempt)
        # The count must outlive the 401: the door commits this error's changes.
        error.keep_changes = True
        raise
    throttle.record_success(session, identifier, client, attempt)
    return result


# Built once, as the throttle's statements are (src/core/login_throttle.py). A username may look
# like someone else's email; the username match wins.
_USER_BY_IDENTIFIER = (
    select(User)
    .where((User.username == bindparam("identifier")) | (User.email == bindparam("identifier")))
    .order_by((User.username == bindparam("identifier")).desc())
    .limit(1)
)


def _verify_credentials(session: Session, settings: Settings, identifier: str, password: str) -> LoginResult:
    user = session.scalars(_USER_BY_IDENTIFIER, {"identifier": identifier}).first()
    if user is None:
        verify_password(password, _TIMING_DECOY_HASH)
        raise _bad_credentials()
    if not user.is_active:
        raise Unauthorized("Account is inactive. Contact administrator.")
    if not verify_password(password, user.password_hash):
        raise _bad_credentials()
    session_id = tokens.new_session_id()
    return LoginResult(
        user=user,
        access=tokens.mint_token(settings, user, "access", fresh=True, session_id=session_id),
        refresh=tokens.mint_token(settings, user, "refresh", fresh=False, session_id=session_id),
    )


def refresh_access(settings: Settings, user: User, refresh_claims: Mapping[str, Any]) -> tokens.IssuedToken:
    """A new non-fresh access token of the same login session, claims from the current row (3.4)."""
    session_id = refresh_claims.get("sid")
    return tokens.mint_token(settings, user, "access", fresh=False,
                             session_id=session_id if isinstance(session_id, str) else None)


def logout(
    session: Session, settings: Settings, user: User, access_claims: Mapping[str, Any], body: Mapping[str, Any]
) -> str:
    """Revoke the presented access token and its login session, so its refresh token too (3.5).

    The SPA sends no body; a body's `refresh_token` of the caller is still revoked on its own
    (tokens minted before login sessions existed carry no `sid`).
    """
    tokens.revoke(session, dict(access_claims))
    ended_session = tokens.revoke_session(session, settings, dict(access_claims))
    refresh_token = read_model(LogoutRequest, dict(body)).refresh_token
    refresh_claims = tokens.try_decode_refresh(settings, refresh_token, user.id)
    if refresh_claims is not None:
        tokens.revoke(session, refresh_claims)
    if refresh_claims is None and not ended_session:
        return "Access token revoked."
    return "Access and refresh tokens revoked."


# --- creation ------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    username: str,
    email: str,
    password: str,
    role: str = "viewer",
    is_active: bool = True,
) -> User:
    """A new user after checks 2-8 of 3.8 (the register body's rules, then uniqueness)."""
    body = read_model(RegisterRequest, {"username": username, "email": email, "password": password,
                                        "role": role, "is_active": is_active})
    return _insert_user(session, body)


def _insert_user(session: Session, body: RegisterRequest) -> User:
    """A new user from a body its model accepted (3.8 checks 1-6), after checks 7-8 (uniqueness)."""
    username, email = body.username, body.email
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("Username already exists")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("Email already exists")
    user = User(
        username=username,
        email=email,
        password_hash=hash_password(body.password),
        role=body.role,
        is_active=body.is_active,
    )
    session.add(user)
    _flush_unique(session)
    return user


def _flush_unique(session: Session) -> None:
    """Flush; a concurrent insert that won the unique index is still a 409, not a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        raise Conflict("Username already exists" if "username" in text else "Email already exists") from None


def register(session: Session, body: RegisterRequest) -> User:
    """POST /auth/register (3.8): the body's rules are its model's; then uniqueness."""
    return _insert_user(session, body)


# --- reading -------------------------------------------------------------------------------


def list_users(session: Session) -> list[User]:
    """Every user, oldest first (ties by username), in one query (3.9)."""
    return list(session.scalars(select(User).order_by(User.created_at.asc(), User.username.asc())))


def get_user(session: Session, actor: User, user_id: str) -> User:
    """GET /auth/users/{id} (3.10): the 403 comes before the existence check."""
    if actor.role != "admin" and actor.id != user_id:
        raise Forbidden("Forbidden. You can only view your own profile.")
    user = session.get(User, user_id)
    if user is None:
        raise _user_not_found()
    return user


# --- update --------------------------------------------------------------------------------


def update_user(
    session: Session, actor: User, user_id: str, payload: Mapping[str, Any]
) -> tuple[User, list[str]]:
    """PUT /auth/users/{id} (3.11), all-or-nothing; returns the user and the applied fields."""
    is_admin = actor.role == "admin"
    if not is_admin and actor.id != user_id:
        raise Forbidden("Forbidden. You can only update your own profile.")
    user = session.get(User, user_id)
    if user is None:
        raise _user_not_found()

    # Validate everything before touching the row, so a late error cannot leave half an update
    # in the session's identity map.
    changes: dict[str, Any] = {}

    def read(key: str) -> Any:
        return read_field(UserUpdateRequest, payload, key)

    email = read("email")
    if email is not None:
        taken = session.scalar(select(User.id).where(User.email == email, User.id != user.id))
        if taken is not None:
            raise Conflict("Email already exists")
        changes["email"] = email

    password = read("password")
    if password is not None:
        changes["password"] = password

    if "role" in payload:
        if not is_admin:
            raise Forbidden("Only admins can change user roles")
        changes["role"] = read("role")

    if "is_active" in payload:
        if not is_admin:
            raise Forbidden("Only admins can change user active status")
        changes["is_active"] = read("is_active")

    if not changes:
        raise Invalid("No valid fields to update")
    if changes.get("role", "admin") != "admin" or changes.get("is_active", True) is False:
        _keep_an_active_admin(session, user)

    if "email" in changes:
        user.email = changes["email"]
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        tokens.end_all_tokens(user)
    if "role" in changes:
        user.role = changes["role"]
    if "is_active" in changes:
        if user.is_active and not changes["is_active"]:
            tokens.end_all_tokens(user)
        user.is_active = changes["is_active"]
    _flush_unique(session)
    return user, [field for field in UPDATABLE_FIELDS if field in changes]


def _keep_an_active_admin(session: Session, losing: User) -> None:
    """409 when `losing` is the only active admin and is about to stop being one.

    Every active admin's row is locked, in id order (PostgreSQL), so two admins demoting or
    deleting each other at once cannot both pass nor deadlock: the second waits, then sees the
    first's change.
    """
    if losing.role != "admin" or not losing.is_active:
        return
    admins = session.scalars(
        select(User.id).where(User.role == "admin", User.is_active.is_(True)).order_by(User.id).with_for_update()
    ).all()
    if not [admin_id for admin_id in admins if admin_id != losing.id]:
        raise Conflict(LAST_ADMIN_ERROR, LAST_ADMIN_MESSAGE)


# --- deletion ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeletedUser:
    id: str
    username: str


def delete_user(session: Session, actor: User, user_id: str) -> DeletedUser:
    """DELETE /auth/users/{id} (3.12): drop the user's own rows, keep their jobs ownerless."""
    if actor.id == user_id:
        raise Invalid("Cannot delete your own account")
    # Locked first: of concurrent deletes one finds the user, the others get 404.
    user = get_locked(session, User, user_id)
    if user is None:
        raise _user_not_found()
    _keep_an_active_admin(session, user)
    deleted = DeletedUser(id=user.id, username=user.username)
    # Explicit statements rather than FK cascades: PostgreSQL and SQLite-with-foreign-keys-off
    # must end in the same state.
    session.execute(delete(Notification).where(Notification.user_id == user_id))
    session.execute(delete(UserNotificationPreferences).where(UserNotificationPreferences.user_id == user_id))
    session.execute(delete(UserUiPreferences).where(UserUiPreferences.user_id == user_id))
    session.execute(update(Job).where(Job.created_by == user_id).values(created_by=None))
    session.delete(user)
    session.flush()
    return deleted


# --- first admin ---------------------------------------------------------------------------


def has_active_admin(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.role == "admin", User.is_active.is_(True)).limit(1)) is not None


def ensure_first_admin(session: Session, settings: Settings) -> tuple[User, str | None] | None:
    """Contract 1.8: when no active admin exists, make one; returns it and any generated password.

    From ADMIN_USERNAME / ADMIN_EMAIL / ADMIN_PASSWORD when set. In development the missing ones
    default to `admin` / `admin@example.com` / a generated password (returned so the caller can
    print it once). In production all three are required, otherwise nothing is created (None).
    A user already holding the configured username (e.g. an admin who deactivated themselves)
    is reactivated as admin with the configured or generated password instead.
    """
    if has_active_admin(session):
        return None
    username = settings.ADMIN_USERNAME.strip()
    email = settings.ADMIN_EMAIL.strip()
    password = settings.ADMIN_PASSWORD
    if settings.is_production and not (username and email and password):
        return None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    username = username or DEV_ADMIN_USERNAME
    email = email or DEV_ADMIN_EMAIL

    existing = session.scalars(select(User).where(User.username == username)).first()
    if existing is not None:
        password = read_field(RegisterRequest, {"password": password}, "password")
        existing.role = "admin"
        existing.is_active = True
        existing.password_hash = hash_password(password)
        tokens.end_all_tokens(existing)
        session.flush()
        return existing, generated
    user = create_user(session, username=username, email=email, password=password, role="admin")
    return user, generated


__all__ = [
    "DeletedUser",
    "LoginResult",
    "authenticate_credentials",
    "create_user",
    "delete_user",
    "ensure_first_admin",
    "get_user",
    "has_active_admin",
    "list_users",
    "login",
    "login_form",
    "read_login_form",
    "logout",
    "refresh_access",
    "register",
    "update_user",
]
