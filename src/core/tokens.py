"""JWTs in the Flask-JWT-Extended format (HS256, PyJWT), minted and checked the same by both doors."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import jwt
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.errors import Unauthorized
from src.models import RevokedToken, User, utcnow

ALGORITHM = "HS256"
LEEWAY_SECONDS = 0  # the contract says "no leeway"; Flask-JWT-Extended's default is 0 too
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_in: int


def new_session_id() -> str:
    """The `sid` shared by the access and refresh tokens of one login (and every refreshed access)."""
    return str(uuid.uuid4())


def mint_token(
    settings: Settings, user: User, token_type: TokenType, *, fresh: bool, session_id: str | None = None
) -> IssuedToken:
    """A signed token whose claims Flask-JWT-Extended can consume (contract 1.4).

    `session_id` ties it to its login (`sid`), so logging out ends both tokens of that login.
    """
    now = int(datetime.now(UTC).timestamp())
    lifetime = (
        settings.JWT_ACCESS_TOKEN_EXPIRES if token_type == "access" else settings.JWT_REFRESH_TOKEN_EXPIRES
    )
    jti = str(uuid.uuid4())
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "type": token_type,
        "fresh": fresh if token_type == "access" else False,
        "jti": jti,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "role": user.role,
        "email": user.email,
        "ver": user.token_version or 0,
    }
    if session_id:
        claims["sid"] = session_id
    return IssuedToken(jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM), jti, lifetime)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <jwt>` header (scheme case-insensitive)."""
    if not authorization or not authorization.strip():
        raise Unauthorized("Authorization required", "Missing Authorization Header")
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Unauthorized(
            "Authorization required",
            "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
        )
    return parts[1]


def _verified_claims(secret: str, token: str) -> dict[str, Any]:
    return jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        leeway=LEEWAY_SECONDS,
        options={"require": ["exp", "sub"], "verify_sub": False},
    )


# A client sends the same token with every request until it expires, and PyJWT's checks of the
# segments and the signature were a large share of `/auth/me`'s CPU (docs/PERFORMANCE.md): a
# token verified once is remembered, keyed by the secret too. A failure is never remembered, and
# the time claims are checked again at each use (below), so the answer is decode's.
_remembered_claims = lru_cache(maxsize=2048)(_verified_claims)


def _times_still_valid(claims: dict[str, Any]) -> bool:
    """PyJWT's exp/nbf/iat rules at this instant (the signature and the shape were checked once)."""
    now = time.time()  # PyJWT's clock: datetime.now(UTC).timestamp(), the same instant
    return bool(claims["exp"] > now - LEEWAY_SECONDS
                and claims.get("nbf", now) <= now + LEEWAY_SECONDS
                and claims.get("iat", now) <= now + LEEWAY_SECONDS)


def token_current(settings: Settings, authorization: str) -> bool:
    """Whether an Authorization header's token is signed by us and within its lifetime (cheap: remembered)."""
    try:
        decode_token(settings, bearer_token(authorization))
    except Unauthorized:
        return False
    return True


def decode_token(settings: Settings, token: str) -> dict[str, Any]:
    """Verified claims; signature before expiry, as the contract orders the checks."""
    try:
        claims = _remembered_claims(settings.jwt_secret, token)
        # Expired (or not yet valid) since it was remembered: decode names the reason.
        claims = dict(claims) if _times_still_valid(claims) else _verified_claims(settings.jwt_secret, token)
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token has expired", "Token has expired") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid token", str(exc) or "Invalid token") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise Unauthorized("Invalid token", "Subject must be a string")
    return claims


def check_token_type(claims: dict[str, Any], expected: TokenType) -> None:
    actual = claims.get("type", "access")
    if expected == "access" and actual == "refresh":
        raise Unauthorized("Invalid token type", "Only non-refresh tokens are allowed")
    if expected == "refresh" and actual != "refresh":
        raise Unauthorized("Invalid token type", "Only refresh tokens are allowed")


def is_revoked(session: Session, jti: str | None) -> bool:
    if not jti:
        return False
    return session.get(RevokedToken, jti) is not None


# A login session's revocation shares the table with token revocations, under this prefix.
_SESSION_PREFIX = "sid:"

# Built once: building the expression and its cache key cost more than running it.
_USER_AND_REVOCATION = select(
    User,
    select(RevokedToken.jti).where(RevokedToken.jti.in_([bindparam("jti"), bindparam("sid")])).exists(),
).where(User.id == bindparam("sub"))


def _session_key(claims: dict[str, Any]) -> str:
    """The revocation key of the token's login session; "" (no row's key) for tokens without one."""
    sid = claims.get("sid")
    return _SESSION_PREFIX + sid if isinstance(sid, str) and sid else ""


def authenticate(
    session: Session, settings: Settings, authorization: str | None, expected: TokenType = "access"
) -> tuple[User, dict[str, Any]]:
    """The active user behind the header, after the seven checks of contract 1.4, in order."""
    claims = decode_token(settings, bearer_token(authorization))
    check_token_type(claims, expected)
    jti = claims.get("jti")
    # One statement for the user and the revocation check (every request pays it); a missing
    # user falls back to the plain check so the revocation message keeps its precedence.
    # A token without jti can't be revoked: "" is no jti's value.
    row = session.execute(
        _USER_AND_REVOCATION, {"sub": claims["sub"], "jti": jti or "", "sid": _session_key(claims)}
    ).first()
    revoked = bool(row[1]) if row is not None else is_revoked(session, jti)
    if revoked:
        raise Unauthorized("Token has been revoked", "Token has been revoked")
    user = row[0] if row is not None else None
    if user is None or not user.is_active:
        raise Unauthorized("User not found or inactive", "User not found or inactive")
    # Issued before the user's last password change or deactivation (tokens older than the
    # claim count as version 0, the column's starting value).
    if claims.get("ver", 0) != user.token_version:
        raise Unauthorized("Token has been revoked", "Token has been revoked")
    return user, claims


def revoke(session: Session, claims: dict[str, Any]) -> None:
    """Record a token's jti as revoked until its own expiry; old tokens without jti can't be."""
    jti = claims.get("jti")
    if not jti or session.get(RevokedToken, jti) is not None:
        return
    session.add(RevokedToken(jti=jti, expires_at=_revocation_expiry(claims["exp"])))
    session.flush()


def revoke_session(session: Session, settings: Settings, claims: dict[str, Any]) -> bool:
    """End the token's login session (its refresh token included); False when it names none."""
    key = _session_key(claims)
    if not key:
        return False
    if session.get(RevokedToken, key) is None:
        # The session's refresh token expires at most a refresh lifetime from now.
        now = int(datetime.now(UTC).timestamp())
        session.add(RevokedToken(jti=key, expires_at=_revocation_expiry(now + settings.JWT_REFRESH_TOKEN_EXPIRES)))
        session.flush()
    return True


def end_all_tokens(user: User) -> None:
    """Make every token issued to `user` so far fail authentication (password change, deactivation)."""
    user.token_version = (user.token_version or 0) + 1


def _revocation_expiry(exp: int | float) -> datetime:
    """Naive UTC of `exp`; an `exp` past what datetime holds (year 9999) is kept revoked until then."""
    try:
        return datetime.fromtimestamp(int(exp), UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return datetime.max.replace(microsecond=0)


def prune_revoked(session: Session, limit: int | None = None) -> int:
    """Forget revocations of tokens that have expired anyway (at most `limit`, oldest first)."""
    expired = select(RevokedToken.jti).where(RevokedToken.expires_at < utcnow()).order_by(RevokedToken.expires_at)
    jtis = list(session.scalars(expired.limit(limit) if limit is not None else expired))
    if jtis:
        session.execute(delete(RevokedToken).where(RevokedToken.jti.in_(jtis)).execution_options(synchronize_session=False))
    return len(jtis)


def count_prunable_revoked(session: Session) -> int:
    """How many revocations prune_revoked would forget now."""
    return session.scalar(select(func.count()).select_from(RevokedToken).where(RevokedToken.expires_at < utcnow())) or 0


def try_decode_refresh(settings: Settings, token: Any, sub: str) -> dict[str, Any] | None:
    """A refresh token's claims when valid, of type refresh and for `sub`; else None."""
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = decode_token(settings, token)
    except Unauthorized:
        return None
    if claims.get("type") != "refresh" or claims.get("sub") != sub:
        return None
    return claims


__all__ = [
    "IssuedToken",
    "authenticate",
    "bearer_token",
    "check_token_type",
    "count_prunable_revoked",
    "decode_token",
    "end_all_tokens",
    "is_revoked",
    "mint_token",
    "new_session_id",
    "prune_revoked",
    "revoke",
    "revoke_session",
    "try_decode_refresh",
]
