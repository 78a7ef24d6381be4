"""Every error leaves the new door as the contract's envelope; 422 is never used."""

from __future__ import annotations

import functools
import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from src.core.errors import (
    DATABASE_UNAVAILABLE_ERRORS,
    CoreError,
    is_database_unavailable,
    method_not_allowed,
    methods_of_most_specific_routes,
    route_not_found,
    unstorable_value,
)
from src.core.errors import (
    database_down as core_database_down,
)
from src.schemas.contract_errors import envelope_of

log = logging.getLogger(__name__)
# nginx's code for a request its client closed before the answer: the request line says so.
CLIENT_CLOSED_REQUEST = 499
# The methods the API uses; a 405's `Allow` is the subset a path serves.
CANDIDATE_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def envelope(error: CoreError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers())


def database_down(exc: BaseException) -> JSONResponse:
    return envelope(core_database_down(exc))


def _methods_serving(request: Request) -> list[str]:
    """The methods the most specific routes at this path serve (Starlette's `Allow` names one route's).

    The route templates are the document's paths (FastAPI's included routers hide theirs from
    `matches`); a path the document does not list keeps every method some route serves there.
    """
    served = [method for method in CANDIDATE_METHODS
              if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                     for route in request.app.router.routes)]
    path = request.scope["path"]
    documented = [
        (method.upper(), template)
        for template, operations in request.app.openapi().get("paths", {}).items()
        if _template_pattern(template).fullmatch(path)
        for method in operations
        if method.upper() in served
    ]
    return methods_of_most_specific_routes(documented) or served


@functools.lru_cache(maxsize=512)
def _template_pattern(template: str) -> re.Pattern[str]:
    """`/jobs/{job_id}` as a pattern matching one path segment per parameter."""
    return re.compile(re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template)))


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CoreError)
    async def _core_error(_request: Request, exc: CoreError) -> JSONResponse:
        return envelope(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # The request models' rules carry the contract's own error; the first failure is answered.
        return JSONResponse(envelope_of(exc.errors()), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return envelope(route_not_found())
        if exc.status_code == 405:
            return envelope(method_not_allowed(_methods_serving(request)))
        return JSONResponse({"error": str(exc.detail), "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(DataError)
    async def _unstorable(_request: Request, _exc: DataError) -> JSONResponse:
        return envelope(unstorable_value())

    async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
        return database_down(exc)

    for error_class in DATABASE_UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_class, _database_down)

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(_request: Request, _exc: ClientDisconnect) -> Response:
        # The client left while its body was being read: nobody gets this answer, and nothing
        # went wrong on our side, so it is no error to log with a traceback.
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_database_unavailable(exc):
            return database_down(exc)
        log.exception("unexpected error")
        settings = request.app.state.settings
        message = str(exc) if settings.expose_error_details else "Internal server error"
        return JSONResponse({"error": "Internal server error", "message": message}, status_code=500)
