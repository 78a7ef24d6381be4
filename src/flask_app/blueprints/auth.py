"""Legacy door: login, token refresh, logout, verify, me, register (contract 3.2-3.8)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from src.core import users
from src.core.login_throttle import LoginThrottle
from src.core.request_parsing import parse_lenient_json_object
from src.core.roles import ADMIN
from src.flask_app.door import (
    auth_required,
    current_claims,
    current_user,
    db_session,
    json_model,
    render,
    settings,
)
from src.schemas.auth import LoginResponse, LogoutResponse, MeResponse, RefreshResponse, VerifyResponse
from src.schemas.user_bodies import LoginRequest, RegisterRequest
from src.schemas.users import RegisterResponse, UserOut

bp = Blueprint("auth", __name__)


def _throttle() -> LoginThrottle:
    # One per app, created on first login; it holds only the limits, the counts are in the database.
    return current_app.extensions.setdefault("login_throttle", LoginThrottle())


def _login_response(result: users.LoginResult) -> Response:
    return render(
        LoginResponse(
            access_token=result.access.token,
            refresh_token=result.refresh.token,
            expires_in=result.access.expires_in,
            user=UserOut.model_validate(result.user),
        )
    )


@bp.post("/auth/login")
def login() -> Response:
    body = json_model(LoginRequest)
    result = users.login(db_session(), settings(), body, throttle=_throttle(), client=request.remote_addr)
    return _login_response(result)


@bp.post("/auth/login/form")
def login_form() -> Response:
    # request.form is empty for any other content type, which gives the same "required" 400.
    result = users.login_form(db_session(), settings(), users.read_login_form(request.form),
                              throttle=_throttle(), client=request.remote_addr)
    return _login_response(result)


@bp.post("/auth/refresh")
@auth_required(token_type="refresh")
def refresh() -> Response:
    issued = users.refresh_access(settings(), current_user(), current_claims())
    return render(RefreshResponse(access_token=issued.token, expires_in=issued.expires_in))


@bp.post("/auth/logout")
@auth_required()
def logout() -> Response:
    body = parse_lenient_json_object(request.get_data(cache=True))
    detail = users.logout(db_session(), settings(), current_user(), current_claims(), body)
    return render(LogoutResponse(detail=detail))


@bp.get("/auth/verify")
@auth_required()
def verify() -> Response:
    user = current_user()
    return render(VerifyResponse(user_id=user.id, username=user.username, role=user.role))


@bp.get("/auth/me")
@auth_required()
def me() -> Response:
    return render(MeResponse.of(current_user()))


@bp.post("/auth/register")
@auth_required(roles=ADMIN)
def register() -> Response:
    user = users.register(db_session(), json_model(RegisterRequest))
    return render(RegisterResponse(user=UserOut.model_validate(user)), 201)
