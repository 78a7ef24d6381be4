"""Login, token refresh, logout, verify, me, register (contract 3.2–3.8)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from src.config import Settings
from src.core import users
from src.core.client_address import client_address
from src.core.login_throttle import LoginThrottle
from src.core.request_parsing import parse_lenient_json_object
from src.fastapi_app.dependencies import AdminUser, CurrentUser, RefreshUser, SessionDep, SettingsDep
from src.fastapi_app.dependencies.body import body_model, read_raw_body
from src.fastapi_app.openapi_docs import error_responses, form_body, json_body
from src.schemas.auth import LoginResponse, LogoutResponse, MeResponse, RefreshResponse, VerifyResponse
from src.schemas.user_bodies import LoginForm, LoginRequest, LogoutRequest, RegisterRequest
from src.schemas.users import RegisterResponse, UserOut

router = APIRouter(tags=["auth"])


def _throttle(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle


def _client(request: Request) -> str | None:
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), request.headers.get("x-real-ip"),
                          settings.trusted_proxies)


def _login_response(result: users.LoginResult) -> LoginResponse:
    return LoginResponse(
        access_token=result.access.token,
        refresh_token=result.refresh.token,
        expires_in=result.access.expires_in,
        user=UserOut.model_validate(result.user),
    )


@router.post("/auth/login", responses=error_responses(400, 401, 429), openapi_extra=json_body(LoginRequest))
async def login(
    request: Request, body: Annotated[LoginRequest, Depends(body_model(LoginRequest))], session: SessionDep,
    settings: SettingsDep,
) -> LoginResponse:
    throttle, client = _throttle(request), _client(request)
    result = await session.run_sync(lambda s: users.login(s, settings, body, throttle=throttle, client=client))
    return _login_response(result)


async def _login_form_body(request: Request) -> LoginForm:
    """The password form read by `LoginForm`; another content type is an empty form (the "required" 400)."""
    form: dict[str, Any] = {}
    content_type = (request.headers.get("content-type") or "").lower()
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = dict((await request.form(max_files=8, max_fields=32)).items())
    return users.read_login_form(form)


@router.post("/auth/login/form", responses=error_responses(400, 401, 429), openapi_extra=form_body(LoginForm))
async def login_form(
    request: Request, body: Annotated[LoginForm, Depends(_login_form_body)], session: SessionDep, settings: SettingsDep
) -> LoginResponse:
    throttle, client = _throttle(request), _client(request)
    result = await session.run_sync(lambda s: users.login_form(s, settings, body, throttle=throttle, client=client))
    return _login_response(result)


@router.post("/auth/refresh", responses=error_responses(401))
async def refresh(request: Request, user: RefreshUser, settings: SettingsDep) -> RefreshResponse:
    issued = users.refresh_access(settings, user, request.state.token_claims)
    return RefreshResponse(access_token=issued.token, expires_in=issued.expires_in)


@router.post(
    "/auth/logout", responses=error_responses(401),
    openapi_extra=json_body(LogoutRequest, required=False, others_ignored=True),
)
async def logout(request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> LogoutResponse:
    body = parse_lenient_json_object(await read_raw_body(request, settings.MAX_JSON_BODY_BYTES))
    claims = request.state.token_claims
    detail = await session.run_sync(lambda s: users.logout(s, settings, user, claims, body))
    return LogoutResponse(detail=detail)


@router.get("/auth/verify", responses=error_responses(401))
async def verify(user: CurrentUser) -> VerifyResponse:
    return VerifyResponse(user_id=user.id, username=user.username, role=user.role)


@router.get("/auth/me", responses=error_responses(401))
async def me(user: CurrentUser) -> MeResponse:
    return MeResponse.of(user)


@router.post(
    "/auth/register", status_code=201, responses=error_responses(400, 401, 403, 409),
    openapi_extra=json_body(RegisterRequest),
)
async def register(
    user: AdminUser, body: Annotated[RegisterRequest, Depends(body_model(RegisterRequest))], session: SessionDep
) -> RegisterResponse:
    created = await session.run_sync(lambda s: users.register(s, body))
    return RegisterResponse(user=UserOut.model_validate(created))
