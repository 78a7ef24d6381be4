"""Every error leaves the legacy door as the contract's `{"error", "message"}` envelope."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, NotFound, RequestEntityTooLarge

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

log = logging.getLogger(__name__)


def error_response(error: CoreError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status_code
    response.headers.update(error.headers())
    return response


def database_down(error: BaseException) -> Response:
    return error_response(core_database_down(error))


def unexpected_error(error: BaseException) -> Response:
    """The contract's 500, with the exception text only when EXPOSE_ERROR_DETAILS is on."""
    log.error("unexpected error", exc_info=error)
    settings = current_app.extensions["settings"]
    message = str(error) if settings.expose_error_details else "Internal server error"
    response = jsonify({"error": "Internal server error", "message": message})
    response.status_code = 500
    return response


# The methods the API uses; a 405's `Allow` is the subset a path serves.
CANDIDATE_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def methods_serving() -> list[str]:
    """The methods the most specific rules at the request's path serve (werkzeug names every rule's)."""
    adapter = current_app.create_url_adapter(request)
    matches = []
    for method in CANDIDATE_METHODS:
        try:
            rule, _arguments = adapter.match(request.path, method=method, return_rule=True)  # type: ignore[union-attr]  # bound to a request: never None
        except HTTPException:  # not served with this method (or a redirect to another path)
            continue
        matches.append((method, rule.rule))
    return methods_of_most_specific_routes(matches)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CoreError)
    def _core_error(error: CoreError) -> Response:
        return error_response(error)

    @app.errorhandler(NotFound)
    def _not_found(_error: NotFound) -> Response:
        return error_response(route_not_found())

    @app.errorhandler(MethodNotAllowed)
    def _method_not_allowed(_error: MethodNotAllowed) -> Response:
        return error_response(method_not_allowed(methods_serving()))

    @app.after_request
    def _options_allow(response: Response) -> Response:
        # Flask's automatic OPTIONS answer lists every rule's methods at the path; say the same
        # as the 405 does.
        if request.method == "OPTIONS" and "Allow" in response.headers:
            response.headers["Allow"] = ", ".join(method_not_allowed(methods_serving()).allowed_methods)
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error: RequestEntityTooLarge) -> Response:
        limit = current_app.extensions["settings"].MAX_JSON_BODY_BYTES
        response = jsonify({"error": "Payload too large", "message": f"Request body exceeds {limit} bytes."})
        response.status_code = 413
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = jsonify({"error": error.name, "message": error.description or error.name})
        response.status_code = error.code or 500
        return response

    @app.errorhandler(DataError)
    def _unstorable(_error: DataError) -> Response:
        return error_response(unstorable_value())

    for error_class in DATABASE_UNAVAILABLE_ERRORS:
        app.register_error_handler(error_class, database_down)

    @app.errorhandler(InternalServerError)
    def _failed_outside_the_view(error: InternalServerError) -> Response:
        # An exception raised after the view (an after_request hook) reaches Flask as a 500
        # wrapping it; a database that went away still answers the 503.
        original = error.original_exception
        if original is not None and is_database_unavailable(original):
            return database_down(original)
        return unexpected_error(original or error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if is_database_unavailable(error):
            return database_down(error)
        return unexpected_error(error)
