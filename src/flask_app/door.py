"""What every legacy view needs: settings, the session, the caller, the body, rendering."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from contextlib import nullcontext
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, jsonify, request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from src.config import Settings
from src.core import tokens
from src.core.errors import read_model
from src.core.job_list_cache import JobListCache
from src.core.request_parsing import parse_json_object, parse_optional_json_object
from src.core.roles import require_role
from src.flask_app.gunicorn_worker import WAITING_ON_RUN
from src.flask_app.runtime import FlaskRuntime
from src.models import User
from src.scheduler.services import ExecutionServices

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def settings() -> Settings:
    return cast(Settings, current_app.extensions["settings"])


def db_session() -> Session:
    return cast(Session, current_app.extensions["sqlalchemy"].session())


def job_list_cache() -> JobListCache:
    return current_app.extensions["job_list_cache"]


def runtime() -> FlaskRuntime:
    return cast(FlaskRuntime, current_app.extensions["runtime"])


def wait_on_run(work: Callable[[ExecutionServices], Awaitable[T]], timeout: float) -> T:
    """`work(services)` on the run loop, waited for: a view's slow outbound I/O (manual and test runs).

    The request's unit of work ends first: what the view did is committed and its connection
    given back, as the run writes rows of its own (SQLite has one writer) and the wait lasts as
    long as the target takes. After it the view only renders.
    """
    g.request_unit.close()
    # Offered by the gunicorn worker (src/flask_app/gunicorn_worker.py): the server may run
    # another request thread meanwhile; absent elsewhere.
    hint = request.environ.get(WAITING_ON_RUN)
    with hint() if hint is not None else nullcontext():
        return runtime().run(work, timeout=timeout)


def current_user() -> User:
    return cast(User, g.current_user)


def current_claims() -> dict[str, Any]:
    return cast(dict[str, Any], g.token_claims)


def auth_required(
    roles: Iterable[str] | None = None, token_type: tokens.TokenType = "access"
) -> Callable[[F], F]:
    """Authenticate (contract 1.4), then apply the role gate (1.5) before the view runs."""
    allowed = tuple(roles) if roles else None

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user, claims = tokens.authenticate(
                db_session(), settings(), request.headers.get("Authorization"), token_type
            )
            g.current_user, g.token_claims = user, claims
            if allowed:
                require_role(user, allowed)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def json_body() -> dict[str, Any]:
    """The JSON object body, or the contract's 400/413."""
    return parse_json_object(
        request.content_type, request.get_data(cache=True), max_bytes=settings().MAX_JSON_BODY_BYTES
    )


def json_model(model: type[M]) -> M:
    """The JSON object body read by `model` (the FastAPI door reads it with the same model)."""
    return read_model(model, json_body())


def optional_json_body() -> dict[str, Any]:
    """As json_body, but an empty body is `{}`."""
    return parse_optional_json_object(
        request.content_type, request.get_data(cache=True), max_bytes=settings().MAX_JSON_BODY_BYTES
    )


def query_params(model: type[M]) -> M:
    """The query string read by `model` (the FastAPI door reads it with the same model).

    Only the first value of a repeated name counts, as FastAPI's scalar parameters do; a refusal
    is the contract's 400.
    """
    return read_model(model, {name: request.args.get(name) for name in request.args})


def render(body: BaseModel | dict[str, Any], status: int = 200) -> Response:
    payload = body.model_dump(mode="json", by_alias=True) if isinstance(body, BaseModel) else body
    response = jsonify(payload)
    response.status_code = status
    return response
