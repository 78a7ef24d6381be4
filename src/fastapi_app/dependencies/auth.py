"""Authentication and role gates, through the same core checks the legacy door uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from src.core import tokens
from src.core.roles import ADMIN, ADMIN_OR_USER
from src.core.roles import require_role as check_role
from src.fastapi_app.dependencies.database import SessionDep, SettingsDep
from src.fastapi_app.kept_authentications import KeptAuthentications
from src.models import User

# Declares the bearer JWT scheme in OpenAPI so the docs' Authorize button works; the header itself
# is checked by src.core.tokens (auto_error=False keeps FastAPI's own 401/403 out of the way).
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth", bearerFormat="JWT", auto_error=False,
    description="An access token from POST /auth/login (refresh token for POST /auth/refresh).",
)
TokenDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def _authenticate(
    request: Request, session: SessionDep, settings: SettingsDep, expected: tokens.TokenType
) -> User:
    header = request.headers.get("Authorization")
    kept: KeptAuthentications = request.app.state.kept_authentications
    user, claims = await kept.authenticate(header, expected, lambda: session.lookup(
        lambda sync_session: tokens.authenticate(sync_session, settings, header, expected)
    ))
    request.state.token_claims = claims
    return user


async def get_current_user(
    request: Request, session: SessionDep, settings: SettingsDep, _token: TokenDep
) -> User:
    """The caller behind an access token (contract 1.4 checks 1–7)."""
    return await _authenticate(request, session, settings, "access")


async def get_refresh_user(
    request: Request, session: SessionDep, settings: SettingsDep, _token: TokenDep
) -> User:
    return await _authenticate(request, session, settings, "refresh")


def require_role(*roles: str) -> Callable[..., Awaitable[User]]:
    """A dependency: the authenticated caller, refused 403 unless their role is listed."""

    async def dependency(user: Annotated[User, Depends(get_current_user)]) -> User:
        check_role(user, roles)
        return user

    return dependency


CurrentUser = Annotated[User, Depends(get_current_user)]
RefreshUser = Annotated[User, Depends(get_refresh_user)]
AdminUser = Annotated[User, Depends(require_role(*ADMIN))]
WriterUser = Annotated[User, Depends(require_role(*ADMIN_OR_USER))]
