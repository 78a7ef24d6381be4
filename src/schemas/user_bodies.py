"""The bodies of login, register and user update (contract 3.2, 3.3, 3.5, 3.8, 3.11, 7.6): each
field's rule, its failure text, and what the document says.

Login and register are read whole (their rules come before any lookup). A user update's rules sit
between the 403/404 and the email's uniqueness check, so the core reads it field by field
(`contract_errors.field_value`) in the contract's order.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema, model_validator

from src.schemas.body_fields import Truthy
from src.schemas.contract_errors import refusal

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 80
EMAIL_MAX_LENGTH = 120
PASSWORD_MIN_LENGTH = 6
EMAIL_PATTERN = r"^[^\s@]+@[^\s@]+\.[^\s@]+$"
_EMAIL = re.compile(EMAIL_PATTERN)
USER_ROLES = ("admin", "user", "viewer")
DEFAULT_ROLE = "viewer"
REGISTER_REQUIRED_KEYS = ("username", "email", "password")

CREDENTIALS_REQUIRED = "Email/Username and password are required"
MISSING_FIELDS = "Missing required fields"
INVALID_EMAIL = "Invalid email"
EMAIL_MESSAGE = "Email address is not valid."
INVALID_ROLE = "Invalid role"
ROLE_MESSAGE = f"Role must be one of: {', '.join(USER_ROLES)}"
SHORT_PASSWORD = f"Password must be at least {PASSWORD_MIN_LENGTH} characters long"


# --- field rules -------------------------------------------------------------------------------


def _credential(value: Any) -> str:
    """3.2 check 2's shape: absent or null is empty; any other non-string is the login 400."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise refusal(CREDENTIALS_REQUIRED)
    return value


def _username(value: str) -> str:
    """3.8 check 3: trimmed, 3 to 80 characters, case kept."""
    username = value.strip()
    if len(username) < USERNAME_MIN_LENGTH:
        raise refusal(f"Username must be at least {USERNAME_MIN_LENGTH} characters long")
    if len(username) > USERNAME_MAX_LENGTH:
        raise refusal(f"Username must be at most {USERNAME_MAX_LENGTH} characters long")
    return username


def _email(value: Any) -> str:
    """3.8 check 4: trimmed, lower-cased, `x@y.z` and at most 120 characters."""
    email = value.strip().lower() if isinstance(value, str) else ""
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        raise refusal(INVALID_EMAIL, EMAIL_MESSAGE)
    return email


def _password(value: Any) -> str:
    """3.8 check 5: at least 6 characters, not trimmed (surrounding spaces are part of the secret)."""
    if not isinstance(value, str) or len(value) < PASSWORD_MIN_LENGTH:
        raise refusal(SHORT_PASSWORD)
    return value


def _role(value: Any) -> str:
    """A role among USER_ROLES, trimmed."""
    role = value.strip() if isinstance(value, str) else value
    if role not in USER_ROLES:
        raise refusal(INVALID_ROLE, ROLE_MESSAGE)
    return str(role)


def _role_or_default(value: Any) -> str:
    """3.8 check 6: null or blank → viewer, else a role."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_ROLE
    if not isinstance(value, str):
        raise refusal(INVALID_ROLE, ROLE_MESSAGE)
    return _role(value)


def _optional_email(value: Any) -> str | None:
    """3.11 check 4: null or blank is ignored (None); otherwise 3.8's email rule."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _email(value)


def _optional_password(value: Any) -> str | None:
    """3.11 check 5: null or blank is ignored (None); another type or fewer than 6 characters is the 400."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _password(value)


_EMAIL_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": EMAIL_MAX_LENGTH, "pattern": EMAIL_PATTERN}
_ROLE_DESCRIPTION = f"One of {', '.join(USER_ROLES)}."

Credential = Annotated[str, BeforeValidator(_credential), WithJsonSchema({"type": ["string", "null"]})]
LoginPassword = Annotated[str, BeforeValidator(_credential), WithJsonSchema({
    "type": "string", "minLength": 1, "description": "Not trimmed.",
})]
Username = Annotated[str, BeforeValidator(_username), WithJsonSchema({
    "type": "string", "minLength": USERNAME_MIN_LENGTH, "maxLength": USERNAME_MAX_LENGTH, "pattern": r"\S",
    "description": f"Trimmed: {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters; case kept; cannot be changed.",
})]
Email = Annotated[str, BeforeValidator(_email), WithJsonSchema(
    _EMAIL_SCHEMA | {"description": "Stored trimmed and lower-cased; unique."}
)]
Password = Annotated[str, BeforeValidator(_password), WithJsonSchema({
    "type": "string", "minLength": PASSWORD_MIN_LENGTH, "description": "Not trimmed; no other rule.",
})]
NewRole = Annotated[str, BeforeValidator(_role_or_default), WithJsonSchema({
    "anyOf": [{"type": "string", "enum": list(USER_ROLES)}, {"type": "string", "pattern": r"^\s*$"}, {"type": "null"}],
    "default": DEFAULT_ROLE, "description": _ROLE_DESCRIPTION + " Null or blank: viewer.",
})]
ChangedEmail = Annotated[str | None, BeforeValidator(_optional_email), WithJsonSchema({
    "anyOf": [_EMAIL_SCHEMA, {"type": "string", "pattern": r"^\s*$"}, {"type": "null"}],
    "description": "Stored trimmed and lower-cased; unique. Null or blank: unchanged.",
})]
ChangedPassword = Annotated[str | None, BeforeValidator(_optional_password), WithJsonSchema({
    "anyOf": [{"type": "string", "minLength": PASSWORD_MIN_LENGTH}, {"type": "string", "pattern": r"^\s*$"},
              {"type": "null"}],
    "description": "Not trimmed; ends every token issued before it. Null or blank: unchanged.",
})]
ChangedRole = Annotated[str, BeforeValidator(_role), WithJsonSchema({
    "type": "string", "enum": list(USER_ROLES), "description": "Admins only. " + _ROLE_DESCRIPTION,
})]


# --- bodies ------------------------------------------------------------------------------------


def _credentials_schema(required: list[str], **extra: Any) -> Any:
    """A login body's `json_schema_extra`: the required keys, with no default shown for them."""

    def finish(schema: dict[str, Any]) -> None:
        for key in required:
            schema["properties"][key].pop("default", None)
        schema["required"] = required
        schema.update(extra)

    return finish


def _require_credentials(identifier: str, password: str) -> None:
    """3.2 check 2: the identifier and the password must be non-empty strings."""
    if not identifier or not password:
        raise refusal(CREDENTIALS_REQUIRED)


class LoginRequest(BaseModel):
    """`POST /auth/login` (3.2): `username` or `email` (matched against both columns) plus `password`.

    The identifier is `username` when non-blank, else `email`, trimmed.
    """

    # 3.2 check 2 as the document can say it: a password, and a username or an email.
    model_config = ConfigDict(extra="ignore", json_schema_extra=_credentials_schema(
        ["password"], anyOf=[{"required": ["username"]}, {"required": ["email"]}],
    ))

    username: Credential = ""
    # Read only when `username` is blank, so a non-string here is refused only then.
    email: Annotated[Any, WithJsonSchema({"type": ["string", "null"]})] = None
    password: LoginPassword = ""

    @property
    def identifier(self) -> str:
        """The trimmed `username`, else the trimmed `email`."""
        return self.username.strip() or _credential(self.email).strip()

    @model_validator(mode="after")
    def _credentials_given(self) -> LoginRequest:
        _require_credentials(self.identifier, self.password)
        return self


class LoginForm(BaseModel):
    """`POST /auth/login/form` (3.3), the OAuth2 password form: `username` holds a username or an email.

    Other fields (`grant_type`, `scope`, ...) are ignored.
    """

    model_config = ConfigDict(extra="ignore", json_schema_extra=_credentials_schema(["username", "password"]))

    username: Annotated[str, BeforeValidator(_credential), WithJsonSchema({
        "type": "string", "pattern": r"\S", "description": "A username or an email.",
    })] = ""
    password: LoginPassword = ""
    grant_type: Annotated[Any, WithJsonSchema({"type": "string"})] = None
    scope: Annotated[Any, WithJsonSchema({"type": "string"})] = None

    @property
    def identifier(self) -> str:
        return self.username.strip()

    @model_validator(mode="after")
    def _credentials_given(self) -> LoginForm:
        _require_credentials(self.identifier, self.password)
        return self


def _text_or_nothing(value: Any) -> str | None:
    # 3.5: anything but a string is ignored, never refused.
    return value if isinstance(value, str) else None


class LogoutRequest(BaseModel):
    """`POST /auth/logout` (3.5): optional; a refresh token of the caller's is revoked too.

    Nothing in it is refused: another value, another body or none at all is ignored.
    """

    refresh_token: Annotated[str | None, BeforeValidator(_text_or_nothing), WithJsonSchema({
        "type": "string", "description": "The refresh token of this login (ended by the logout anyway); a value "
        "that is not a string, or a body that is no object, is ignored.",
    })] = None


class RegisterRequest(BaseModel):
    """`POST /auth/register` (3.8): the three required keys, then each field's rule in order."""

    model_config = ConfigDict(extra="ignore")

    username: Username
    email: Email
    password: Password
    role: NewRole = DEFAULT_ROLE
    is_active: Truthy = True

    @model_validator(mode="before")
    @classmethod
    def _required_given(cls, data: Any) -> Any:
        """3.8 check 2: every required key absent, blank or not a string, listed in one 400."""
        if isinstance(data, dict):
            missing = [key for key in REGISTER_REQUIRED_KEYS
                       if not isinstance(data.get(key), str) or not data[key].strip()]
            if missing:
                raise refusal(MISSING_FIELDS, None, missing=missing)
        return data


class UserUpdateRequest(BaseModel):
    """`PUT /auth/users/{id}` (3.11): all optional; `role` and `is_active` are admin-only;
    other keys (`username` too) are ignored."""

    model_config = ConfigDict(extra="ignore")

    email: ChangedEmail = None
    password: ChangedPassword = None
    # Absent: unchanged; a given null is refused like any other non-role.
    role: ChangedRole = None  # type: ignore[assignment]  # the default only marks the key optional
    is_active: Truthy = False
