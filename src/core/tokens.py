"""JWTs in the Flask-JWT-Extended format (HS256, PyJWT), minted and checked the same by both doors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
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


def mint_token(settings: Settings, user: User, token_type: TokenType, *, fresh: bool) -> IssuedToken:
    """A signed token whose claims Flask-JWT-Extended can consume (contract 1.4)."""
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
    }
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


def decode_token(settings: Settings, token: str) -> dict[str, Any]:
    """Verified claims; signature before expiry, as the contract orders the checks."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_sub": False},
        )
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


# Built once: building the expression and its cache key cost more than running it (~15% of
# `/auth/me`'s CPU, py-spy).
_USER_AND_REVOCATION = select(
    User, select(RevokedToken.jti).where(RevokedToken.jti == bindparam("jti")).exists()
).where(User.id == bindparam("sub"))


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
    row = session.execute(_USER_AND_REVOCATION, {"sub": claims["sub"], "jti": jti or ""}).first()
    revoked = bool(row[1]) if row is not None else is_revoked(session, jti)
    if revoked:
        raise Unauthorized("Token has been revoked", "Token has been revoked")
    user = row[0] if row is not None else None
    if user is None or not user.is_active:
        raise Unauthorized("User not found or inactive", "User not found or inactive")
    return user, claims


def revoke(session: Session, claims: dict[str, Any]) -> None:
    """Record a token's jti as revoked until its own expiry; old tokens without jti can't be."""
    jti = claims.get("jti")
    if not jti or session.get(RevokedToken, jti) is not None:
        return
    session.add(RevokedToken(jti=jti, expires_at=_revocation_expiry(claims["exp"])))
    session.flush()


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
    "decode_token",
    "is_revoked",
    "mint_token",
    "prune_revoked",
    "revoke",
    "try_decode_refresh",
]
