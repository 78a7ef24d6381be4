"""Forged, stale and misused tokens on both doors: refused with contract 1.4's status and envelope.

Each attack builds its request once; `test_attack_is_refused` checks it on each door with the
`api` fixture, and `test_attack_gets_the_same_answer_on_both_doors` sends it to both doors on one
database and compares the bodies (the reason text of "Invalid token" is PyJWT's, so that test is
what pins it across doors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from src.config import Settings
from src.models import User
from tests.api.conftest import DOORS, ApiClient
from tests.conftest import Factory

ME = ("GET", "/auth/me")
ADMIN_ENDPOINT = ("GET", "/auth/users")
REFRESH = ("POST", "/auth/refresh")

MISSING_HEADER = {"error": "Authorization required", "message": "Missing Authorization Header"}
NOT_BEARER = {
    "error": "Authorization required",
    "message": "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
}
EXPIRED = {"error": "Token has expired", "message": "Token has expired"}
REFRESH_AS_ACCESS = {"error": "Invalid token type", "message": "Only non-refresh tokens are allowed"}
ACCESS_AS_REFRESH = {"error": "Invalid token type", "message": "Only refresh tokens are allowed"}
REVOKED = {"error": "Token has been revoked", "message": "Token has been revoked"}
NO_USER = {"error": "User not found or inactive", "message": "User not found or inactive"}
ADMIN_GATE = {"error": "Insufficient permissions",
              "message": "This endpoint requires one of the following roles: admin"}
# "Invalid token" carries the decoder's reason text (1.4 check 3): the error is fixed, the message varies.
INVALID = {"error": "Invalid token"}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def segment(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def hmac_token(header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: Any = hashlib.sha256) -> str:
    """An HMAC-signed token with exactly this header (PyJWT would rewrite `alg` or warn on the key)."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64url(hmac.new(key, signing_input.encode(), digest).digest())}"


@dataclass
class Ctx:
    """What an attack needs to forge its token: the door, the database and a victim."""

    api: ApiClient
    factory: Factory
    db: Session
    settings: Settings
    viewer: User

    def claims(self, user: User | None = None, **overrides: Any) -> dict[str, Any]:
        """Claims as the server mints them (1.4), for `user` (default: the viewer)."""
        user = user or self.viewer
        now = int(datetime.now(UTC).timestamp())
        claims = {"sub": user.id, "type": "access", "fresh": True, "jti": str(uuid.uuid4()), "iat": now,
                  "nbf": now, "exp": now + 3600, "role": user.role, "email": user.email}
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not DROP}

    def sign(self, claims: dict[str, Any], **kwargs: Any) -> str:
        return jwt.encode(claims, self.settings.jwt_secret, algorithm="HS256", **kwargs)


DROP = object()  # a claim override that removes the claim


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    authorization: str | bytes | None  # the raw header value; None: no header


def bearer(endpoint: tuple[str, str], token: str) -> Request:
    return Request(*endpoint, f"Bearer {token}")


def alg_none(ctx: Ctx) -> Request:
    return bearer(ME, f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(ctx.claims())}.")


def wrong_key(ctx: Ctx) -> Request:
    return bearer(ME, jwt.encode(ctx.claims(), "another-secret-of-at-least-32-bytes!", algorithm="HS256"))


def hs256_labelled_rs256(ctx: Ctx) -> Request:
    """HMAC-signed with the real secret, but the header claims RS256: only HS256 is accepted."""
    return bearer(ME, hmac_token({"alg": "RS256", "typ": "JWT"}, ctx.claims(), ctx.settings.jwt_secret.encode()))


def hs512_with_the_secret(ctx: Ctx) -> Request:
    return bearer(ME, hmac_token({"alg": "HS512", "typ": "JWT"}, ctx.claims(), ctx.settings.jwt_secret.encode(),
                                 hashlib.sha512))


def rs256_with_own_key_pair(ctx: Ctx) -> Request:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return bearer(ME, jwt.encode(ctx.claims(), key, algorithm="RS256"))


def hs256_keyed_with_a_public_key(ctx: Ctx) -> Request:
    """The key-confusion trick: HMAC keyed with a PEM public key a server might also hold."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return bearer(ME, hmac_token({"alg": "HS256", "typ": "JWT"}, ctx.claims(), pem))


def expired(ctx: Ctx) -> Request:
    now = int(datetime.now(UTC).timestamp())
    return bearer(ME, ctx.sign(ctx.claims(iat=now - 7200, nbf=now - 7200, exp=now - 1)))


def tampered_role(ctx: Ctx) -> Request:
    """A viewer's real token with the payload edited to role=admin, signature kept."""
    header, _payload, signature = ctx.factory.token(ctx.viewer).split(".")
    return bearer(ADMIN_ENDPOINT, f"{header}.{segment(ctx.claims(role='admin'))}.{signature}")


def tampered_sub(ctx: Ctx) -> Request:
    admin = ctx.factory.user("admin")
    header, _payload, signature = ctx.factory.token(ctx.viewer).split(".")
    return bearer(ADMIN_ENDPOINT, f"{header}.{segment(ctx.claims(admin))}.{signature}")


def signed_admin_claim_for_viewer(ctx: Ctx) -> Request:
    """Validly signed, role claim says admin: the database role (viewer) decides."""
    return bearer(ADMIN_ENDPOINT, ctx.sign(ctx.claims(role="admin")))


def refresh_as_access(ctx: Ctx) -> Request:
    return bearer(ME, ctx.factory.token(ctx.viewer, "refresh"))


def access_on_refresh(ctx: Ctx) -> Request:
    return bearer(REFRESH, ctx.factory.token(ctx.viewer))


def revoked_by_logout(ctx: Ctx) -> Request:
    token = ctx.factory.token(ctx.viewer)
    assert ctx.api.post("/auth/logout", token=token).status_code == 200
    return bearer(ME, token)


def refresh_revoked_by_logout(ctx: Ctx) -> Request:
    refresh = ctx.factory.token(ctx.viewer, "refresh")
    response = ctx.api.post("/auth/logout", token=ctx.factory.token(ctx.viewer), json={"refresh_token": refresh})
    assert response.status_code == 200
    return bearer(REFRESH, refresh)


def deleted_user(ctx: Ctx) -> Request:
    doomed = ctx.factory.user("admin")
    token = ctx.factory.token(doomed)
    ctx.db.delete(doomed)
    ctx.db.commit()
    return bearer(ME, token)


def deactivated_user(ctx: Ctx) -> Request:
    token = ctx.factory.token(ctx.viewer)
    ctx.viewer.is_active = False
    ctx.db.commit()
    return bearer(ME, token)


def deactivated_user_refreshing(ctx: Ctx) -> Request:
    token = ctx.factory.token(ctx.viewer, "refresh")
    ctx.viewer.is_active = False
    ctx.db.commit()
    return bearer(REFRESH, token)


def unknown_sub(ctx: Ctx) -> Request:
    return bearer(ME, ctx.sign(ctx.claims(sub=str(uuid.uuid4()))))


def sub_not_a_string(ctx: Ctx) -> Request:
    return bearer(ME, ctx.sign(ctx.claims(sub=12345)))


def sub_an_object(ctx: Ctx) -> Request:
    return bearer(ME, ctx.sign(ctx.claims(sub={"id": ctx.viewer.id})))


def no_sub(ctx: Ctx) -> Request:
    return bearer(ME, ctx.sign(ctx.claims(sub=DROP)))


def no_exp(ctx: Ctx) -> Request:
    return bearer(ME, ctx.sign(ctx.claims(exp=DROP)))


def exp_not_a_number(ctx: Ctx) -> Request:
    return bearer(ME, ctx.sign(ctx.claims(exp="tomorrow")))


def nbf_in_the_future(ctx: Ctx) -> Request:
    now = int(datetime.now(UTC).timestamp())
    return bearer(ME, ctx.sign(ctx.claims(nbf=now + 600)))


def jti_not_a_string(ctx: Ctx) -> Request:
    return bearer(ME, ctx.sign(ctx.claims(jti={"id": "x"})))


def garbage(_ctx: Ctx) -> Request:
    return bearer(ME, "not-a-jwt")


def two_segments(_ctx: Ctx) -> Request:
    return bearer(ME, f"{segment({'alg': 'HS256'})}.{segment({'sub': 'x'})}")


def header_not_an_object(_ctx: Ctx) -> Request:
    return bearer(ME, f"{segment(['HS256'])}.{segment({'sub': 'x'})}.c2ln")


def deeply_nested_header(_ctx: Ctx) -> Request:
    header = b'{"alg":"HS256","x":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    return bearer(ME, f"{b64url(header)}.{segment({'sub': 'x'})}.c2ln")


def not_base64(_ctx: Ctx) -> Request:
    return bearer(ME, "!!!.$$$.%%%")


def empty_header(_ctx: Ctx) -> Request:
    return Request(*ME, "")


def no_header(_ctx: Ctx) -> Request:
    return Request(*ME, None)


def bearer_without_token(_ctx: Ctx) -> Request:
    return Request(*ME, "Bearer")


def three_part_header(ctx: Ctx) -> Request:
    return Request(*ME, f"Bearer {ctx.factory.token(ctx.viewer)} extra")


def basic_scheme(_ctx: Ctx) -> Request:
    return Request(*ME, "Basic dmlld2VyOnNlY3JldDEyMw==")


def token_without_scheme(ctx: Ctx) -> Request:
    return Request(*ME, ctx.factory.token(ctx.viewer))


# name → (request builder, status, exact body; INVALID = error fixed, any non-empty reason)
ATTACKS: dict[str, tuple[Callable[[Ctx], Request], int, dict[str, str]]] = {
    "alg_none": (alg_none, 401, INVALID),
    "wrong_key": (wrong_key, 401, INVALID),
    "hs256_labelled_rs256": (hs256_labelled_rs256, 401, INVALID),
    "hs512_with_the_secret": (hs512_with_the_secret, 401, INVALID),
    "rs256_with_own_key_pair": (rs256_with_own_key_pair, 401, INVALID),
    "hs256_keyed_with_a_public_key": (hs256_keyed_with_a_public_key, 401, INVALID),
    "expired": (expired, 401, EXPIRED),
    "tampered_role_claim": (tampered_role, 401, INVALID),
    "tampered_sub_claim": (tampered_sub, 401, INVALID),
    "signed_admin_claim_for_a_viewer": (signed_admin_claim_for_viewer, 403, ADMIN_GATE),
    "refresh_token_as_access": (refresh_as_access, 401, REFRESH_AS_ACCESS),
    "access_token_on_refresh": (access_on_refresh, 401, ACCESS_AS_REFRESH),
    "revoked_by_logout": (revoked_by_logout, 401, REVOKED),
    "refresh_revoked_by_logout": (refresh_revoked_by_logout, 401, REVOKED),
    "deleted_user": (deleted_user, 401, NO_USER),
    "deactivated_user": (deactivated_user, 401, NO_USER),
    "deactivated_user_refreshing": (deactivated_user_refreshing, 401, NO_USER),
    "unknown_sub": (unknown_sub, 401, NO_USER),
    "sub_not_a_string": (sub_not_a_string, 401, {"error": "Invalid token", "message": "Subject must be a string"}),
    "sub_an_object": (sub_an_object, 401, {"error": "Invalid token", "message": "Subject must be a string"}),
    "no_sub": (no_sub, 401, INVALID),
    "no_exp": (no_exp, 401, INVALID),
    "exp_not_a_number": (exp_not_a_number, 401, INVALID),
    "nbf_in_the_future": (nbf_in_the_future, 401, INVALID),
    "jti_not_a_string": (jti_not_a_string, 401, INVALID),
    "garbage": (garbage, 401, INVALID),
    "two_segments": (two_segments, 401, INVALID),
    "header_not_an_object": (header_not_an_object, 401, INVALID),
    "deeply_nested_header": (deeply_nested_header, 401, INVALID),
    "not_base64": (not_base64, 401, INVALID),
    "empty_header": (empty_header, 401, MISSING_HEADER),
    "no_header": (no_header, 401, MISSING_HEADER),
    "bearer_without_token": (bearer_without_token, 401, NOT_BEARER),
    "three_part_header": (three_part_header, 401, NOT_BEARER),
    "basic_scheme": (basic_scheme, 401, NOT_BEARER),
    "token_without_scheme": (token_without_scheme, 401, NOT_BEARER),
}


def send(api: ApiClient, request: Request) -> Any:
    headers = {} if request.authorization is None else {"Authorization": request.authorization}
    return api.request(request.method, request.path, headers=headers)


def assert_envelope(response: Any, status: int, expected: dict[str, str]) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    if expected is INVALID:
        assert set(body) == {"error", "message"}
        assert body["error"] == "Invalid token"
        assert isinstance(body["message"], str) and body["message"]
    else:
        assert body == expected


@pytest.fixture
def ctx(api: ApiClient, factory: Factory, db: Session, settings: Settings, viewer: User) -> Ctx:
    return Ctx(api, factory, db, settings, viewer)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused(ctx: Ctx, name: str) -> None:
    build, status, expected = ATTACKS[name]
    assert_envelope(send(ctx.api, build(ctx)), status, expected)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_gets_the_same_answer_on_both_doors(
    name: str, factory: Factory, db: Session, settings: Settings, viewer: User
) -> None:
    build, status, expected = ATTACKS[name]
    (first, open_first), (second, open_second) = DOORS.items()
    with open_first(settings) as first_http, open_second(settings) as second_http:
        doors = [ApiClient(first_http, first), ApiClient(second_http, second)]
        request = build(Ctx(doors[0], factory, db, settings, viewer))
        responses = [send(door, request) for door in doors]
    assert_envelope(responses[0], status, expected)
    assert responses[1].status_code == responses[0].status_code
    assert responses[1].json() == responses[0].json()


def test_signed_admin_claim_does_not_change_the_reported_role(ctx: Ctx) -> None:
    response = ctx.api.get("/auth/me", token=ctx.sign(ctx.claims(role="admin")))
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"


def test_a_valid_token_with_lower_case_scheme_is_accepted(ctx: Ctx) -> None:
    """Control: the endpoint the attacks target answers a genuine token."""
    response = ctx.api.get("/auth/me", headers={"Authorization": f"bearer {ctx.factory.token(ctx.viewer)}"})
    assert response.status_code == 200
    assert response.json()["id"] == ctx.viewer.id


def test_a_legacy_token_without_jti_nbf_fresh_is_accepted(ctx: Ctx) -> None:
    token = ctx.sign(ctx.claims(jti=DROP, nbf=DROP, fresh=DROP, type=DROP))
    response = ctx.api.get("/auth/me", token=token)
    assert response.status_code == 200
    assert response.json()["id"] == ctx.viewer.id


def test_a_huge_token_is_a_4xx_not_a_server_error(ctx: Ctx) -> None:
    padding = "x" * (1024 * 1024 + 1)
    token = jwt.encode(ctx.claims(padding=padding), "another-secret-of-at-least-32-bytes!", algorithm="HS256")
    assert len(token) > 1024 * 1024
    response = ctx.api.get("/auth/me", token=token)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_a_huge_validly_signed_token_is_not_a_server_error(ctx: Ctx) -> None:
    token = ctx.sign(ctx.claims(padding="x" * (1024 * 1024 + 1)))
    response = ctx.api.get("/auth/me", token=token)
    assert response.status_code < 500


@pytest.mark.parametrize("exp", [10**15, 10**30], ids=["year_31_million", "beyond_time_t"])
def test_logout_of_a_token_expiring_beyond_year_9999_revokes_it(ctx: Ctx, exp: int) -> None:
    """Such an `exp` passes PyJWT; storing its revocation once crashed logout with a 500."""
    token = ctx.sign(ctx.claims(exp=exp))
    refresh = ctx.sign(ctx.claims(exp=exp, type="refresh", fresh=False))

    response = ctx.api.post("/auth/logout", token=token, json={"refresh_token": refresh})

    assert response.status_code == 200
    assert ctx.api.get("/auth/me", token=token).json() == REVOKED
    assert ctx.api.post("/auth/refresh", token=refresh).json() == REVOKED
