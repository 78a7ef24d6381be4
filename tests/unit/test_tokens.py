"""Token format: our tokens and Flask-JWT-Extended's are interchangeable (contract 1.4)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import jwt
import pytest

from src.config import Settings
from src.core import tokens
from src.core.errors import Unauthorized
from src.models import User
from tests.conftest import legacy_door, make_settings


@pytest.fixture
def token_settings() -> Settings:
    return make_settings("sqlite://")


@pytest.fixture
def someone() -> User:
    return User(id="7f8e2c1a-0000-4000-8000-000000000001", username="alice", email="alice@example.com",
                role="user", is_active=True)


@pytest.fixture
def flask_jwt_extended() -> ModuleType:
    """Flask-JWT-Extended, the legacy door's token library (requirements-legacy.txt)."""
    import flask_jwt_extended

    return flask_jwt_extended


@pytest.fixture
def jwt_app(token_settings: Settings, flask_jwt_extended: ModuleType) -> Iterator[Any]:
    from flask import Flask

    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=token_settings.jwt_secret,
        JWT_ALGORITHM="HS256",
        JWT_ACCESS_TOKEN_EXPIRES=token_settings.JWT_ACCESS_TOKEN_EXPIRES,
        JWT_REFRESH_TOKEN_EXPIRES=token_settings.JWT_REFRESH_TOKEN_EXPIRES,
    )
    flask_jwt_extended.JWTManager(app)
    with app.app_context():
        yield app


@legacy_door
def test_flask_jwt_extended_accepts_our_access_token(
    flask_jwt_extended: ModuleType, jwt_app: Any, token_settings: Settings, someone: User
) -> None:
    issued = tokens.mint_token(token_settings, someone, "access", fresh=True)
    claims = flask_jwt_extended.decode_token(issued.token)
    assert claims["sub"] == someone.id
    assert claims["type"] == "access"
    assert claims["fresh"] is True
    assert claims["jti"] == issued.jti
    assert claims["role"] == "user"
    assert claims["email"] == "alice@example.com"


@legacy_door
def test_flask_jwt_extended_accepts_our_refresh_token(
    flask_jwt_extended: ModuleType, jwt_app: Any, token_settings: Settings, someone: User
) -> None:
    issued = tokens.mint_token(token_settings, someone, "refresh", fresh=False)
    claims = flask_jwt_extended.decode_token(issued.token)
    assert claims["type"] == "refresh"
    assert claims["fresh"] is False
    assert claims["sub"] == someone.id


@legacy_door
def test_our_decoder_accepts_a_flask_jwt_extended_access_token(
    flask_jwt_extended: ModuleType, jwt_app: Any, token_settings: Settings, someone: User
) -> None:
    token = flask_jwt_extended.create_access_token(
        identity=someone.id, additional_claims={"role": "user", "email": "alice@example.com"}
    )
    claims = tokens.decode_token(token_settings, token)
    tokens.check_token_type(claims, "access")
    assert claims["sub"] == someone.id
    assert claims["role"] == "user"
    assert claims["email"] == "alice@example.com"


@legacy_door
def test_our_decoder_accepts_a_flask_jwt_extended_refresh_token_on_refresh_only(
    flask_jwt_extended: ModuleType, jwt_app: Any, token_settings: Settings, someone: User
) -> None:
    token = flask_jwt_extended.create_refresh_token(identity=someone.id)
    claims = tokens.decode_token(token_settings, token)
    tokens.check_token_type(claims, "refresh")
    with pytest.raises(Unauthorized) as raised:
        tokens.check_token_type(claims, "access")
    assert raised.value.body() == {"error": "Invalid token type", "message": "Only non-refresh tokens are allowed"}


def test_minted_claims_follow_the_contract(token_settings: Settings, someone: User) -> None:
    issued = tokens.mint_token(token_settings, someone, "access", fresh=True, session_id="s-1")
    claims = jwt.decode(issued.token, token_settings.jwt_secret, algorithms=["HS256"])
    assert set(claims) == {"sub", "type", "fresh", "jti", "iat", "nbf", "exp", "role", "email", "ver", "sid"}
    assert (claims["ver"], claims["sid"]) == (0, "s-1")
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] - claims["iat"] == token_settings.JWT_ACCESS_TOKEN_EXPIRES == issued.expires_in
    assert len(claims["jti"]) == 36


def test_refresh_lifetime_comes_from_settings(token_settings: Settings, someone: User) -> None:
    issued = tokens.mint_token(token_settings, someone, "refresh", fresh=False)
    claims = jwt.decode(issued.token, token_settings.jwt_secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == token_settings.JWT_REFRESH_TOKEN_EXPIRES


def test_each_token_gets_its_own_jti(token_settings: Settings, someone: User) -> None:
    first = tokens.mint_token(token_settings, someone, "access", fresh=True)
    second = tokens.mint_token(token_settings, someone, "access", fresh=True)
    assert first.jti != second.jti


def test_token_without_type_counts_as_access(token_settings: Settings) -> None:
    token = jwt.encode({"sub": "abc", "exp": 4102444800}, token_settings.jwt_secret, algorithm="HS256")
    claims = tokens.decode_token(token_settings, token)
    tokens.check_token_type(claims, "access")
    with pytest.raises(Unauthorized) as raised:
        tokens.check_token_type(claims, "refresh")
    assert raised.value.body() == {"error": "Invalid token type", "message": "Only refresh tokens are allowed"}


def test_numeric_sub_is_an_invalid_token(token_settings: Settings) -> None:
    token = jwt.encode({"sub": 5, "exp": 4102444800}, token_settings.jwt_secret, algorithm="HS256")
    with pytest.raises(Unauthorized) as raised:
        tokens.decode_token(token_settings, token)
    assert raised.value.error == "Invalid token"


def test_token_without_exp_is_an_invalid_token(token_settings: Settings) -> None:
    token = jwt.encode({"sub": "abc"}, token_settings.jwt_secret, algorithm="HS256")
    with pytest.raises(Unauthorized) as raised:
        tokens.decode_token(token_settings, token)
    assert raised.value.error == "Invalid token"


def test_expired_token_has_its_own_error(token_settings: Settings) -> None:
    token = jwt.encode({"sub": "abc", "exp": 1000}, token_settings.jwt_secret, algorithm="HS256")
    with pytest.raises(Unauthorized) as raised:
        tokens.decode_token(token_settings, token)
    assert raised.value.body() == {"error": "Token has expired", "message": "Token has expired"}


def test_a_token_accepted_once_is_refused_once_it_expired(token_settings: Settings) -> None:
    """Verified tokens are remembered (tokens._remembered_claims); their expiry still holds."""
    expires = int(time.time()) + 2
    token = jwt.encode({"sub": "abc", "exp": expires}, token_settings.jwt_secret, algorithm="HS256")
    assert tokens.decode_token(token_settings, token)["sub"] == "abc"
    while time.time() <= expires:  # waits for the expiry; asserts nothing about time
        time.sleep(0.2)
    with pytest.raises(Unauthorized) as raised:
        tokens.decode_token(token_settings, token)
    assert raised.value.body() == {"error": "Token has expired", "message": "Token has expired"}


def test_a_remembered_token_is_not_accepted_under_another_secret(token_settings: Settings) -> None:
    token = jwt.encode({"sub": "abc", "exp": 4102444800}, token_settings.jwt_secret, algorithm="HS256")
    assert tokens.decode_token(token_settings, token)["sub"] == "abc"
    rotated = make_settings("sqlite://", JWT_SECRET_KEY="a-rotated-jwt-secret-of-at-least-32-bytes")
    with pytest.raises(Unauthorized) as raised:
        tokens.decode_token(rotated, token)
    assert raised.value.error == "Invalid token"


def test_claims_changed_by_a_caller_do_not_change_the_remembered_ones(token_settings: Settings) -> None:
    token = jwt.encode({"sub": "abc", "exp": 4102444800}, token_settings.jwt_secret, algorithm="HS256")
    tokens.decode_token(token_settings, token)["sub"] = "someone-else"
    assert tokens.decode_token(token_settings, token)["sub"] == "abc"


def test_token_signed_with_another_secret_is_invalid(token_settings: Settings) -> None:
    token = jwt.encode({"sub": "abc", "exp": 4102444800}, "another-secret", algorithm="HS256")
    with pytest.raises(Unauthorized) as raised:
        tokens.decode_token(token_settings, token)
    assert raised.value.error == "Invalid token"


def test_jwt_secret_falls_back_to_secret_key() -> None:
    settings = make_settings("sqlite://", JWT_SECRET_KEY="", SECRET_KEY="only-secret")
    assert settings.jwt_secret == "only-secret"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing Authorization Header"),
        ("", "Missing Authorization Header"),
        ("Token abc", "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"),
        ("Bearer", "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"),
        ("Bearer a b", "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"),
    ],
)
def test_bad_authorization_headers(header: str | None, message: str) -> None:
    with pytest.raises(Unauthorized) as raised:
        tokens.bearer_token(header)
    assert raised.value.body() == {"error": "Authorization required", "message": message}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    assert tokens.bearer_token(f"{scheme} abc.def.ghi") == "abc.def.ghi"
