"""Typed errors raised by core operations; each door renders them as the contract's envelope."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from src.schemas.contract_errors import Refused, field_value, refused

log = logging.getLogger(__name__)

# How long a client should wait before retrying a 503 (`Retry-After`): a restarting database is
# usually back within seconds, and the pools reconnect on the first request after that.
DATABASE_RETRY_AFTER_SECONDS = 5


class CoreError(Exception):
    """An expected failure with an HTTP status and the `{"error", "message"}` body."""

    status_code = 400
    # Seconds for a `Retry-After` header (429, 503); None sends none.
    retry_after: int | None = None
    # The methods a path does serve, for the `Allow` header of a 405; empty sends none.
    allowed_methods: tuple[str, ...] = ()
    # True when the work done before the error must still be committed (e.g. a manual run of an
    # expired job auto-pauses it, then answers 400).
    keep_changes = False

    def __init__(self, error: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or error)
        self.error = error
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.message is not None:
            body["message"] = self.message
        body.update(self.extra)
        return body

    def headers(self) -> dict[str, str]:
        """Response headers that go with this error (`Retry-After`, `Allow`)."""
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.allowed_methods:
            headers["Allow"] = ", ".join(self.allowed_methods)
        return headers


class Invalid(CoreError):
    status_code = 400


class Unauthorized(CoreError):
    status_code = 401


class Forbidden(CoreError):
    status_code = 403


class NotFound(CoreError):
    status_code = 404


class Conflict(CoreError):
    status_code = 409


class PayloadTooLarge(CoreError):
    status_code = 413


class TooManyAttempts(CoreError):
    status_code = 429


class ServiceUnavailable(CoreError):
    status_code = 503


def route_not_found() -> NotFound:
    return NotFound("Not found", "The requested URL was not found on the server.")


def methods_of_most_specific_routes(matches: Iterable[tuple[str, str]]) -> list[str]:
    """The methods a path serves, from the (method, route template) pairs whose template matches it.

    Only the templates with the fewest parameters count: `/jobs/bulk-upload` is served by its own
    route (POST), not by `/jobs/{job_id}` read with job_id "bulk-upload", so its `Allow` says POST
    as the document does. Templates name parameters `{...}` (FastAPI) or `<...>` (Flask).
    """
    pairs = [(method, template.count("{") + template.count("<")) for method, template in matches]
    if not pairs:
        return []
    fewest = min(parameters for _method, parameters in pairs)
    return sorted({method for method, parameters in pairs if parameters == fewest})


def method_not_allowed(allowed_methods: Iterable[str]) -> CoreError:
    """The 405 for a known path; `Allow` lists what it serves (HEAD and OPTIONS wherever GET is)."""
    error = CoreError("Method not allowed", "The method is not allowed for the requested URL.")
    error.status_code = 405
    methods = {method.upper() for method in allowed_methods}
    if "GET" in methods:
        methods |= {"HEAD", "OPTIONS"}
    error.allowed_methods = tuple(sorted(methods))
    return error


def unstorable_value() -> Invalid:
    """A value the database refuses to hold (PostgreSQL: a NUL byte in text, an integer overflow)."""
    return Invalid("Invalid payload", "A value contains characters or a number the database cannot store.")


def database_unavailable() -> ServiceUnavailable:
    error = ServiceUnavailable("Service unavailable", "Database unavailable, retry shortly.")
    error.retry_after = DATABASE_RETRY_AFTER_SECONDS
    return error


def database_down(exc: BaseException) -> ServiceUnavailable:
    """The 503 a door answers for an unreachable database, logged once for both doors."""
    # The class only: a driver's message may name the host, port and user.
    log.warning("database unavailable: %s", exc.__class__.__name__)
    return database_unavailable()


# Errors that mean "the database cannot be reached right now" (refused, dropped, shutting down,
# a closed connection); each door answers them with `database_unavailable()`, never a 500.
DATABASE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, DisconnectionError)


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` says the database is unreachable rather than that a statement was wrong."""
    if isinstance(exc, DATABASE_UNAVAILABLE_ERRORS):
        return True
    # A driver may report a dropped connection with another error class; SQLAlchemy flags it.
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def refused_request(body: dict[str, Any]) -> Invalid:
    """The 400 of a request model's refusal (`src.schemas.contract_errors.Refused.body`)."""
    extra = {key: value for key, value in body.items() if key not in ("error", "message")}
    return Invalid(body["error"], body.get("message"), **extra)


def read_field(model: type[BaseModel], payload: Mapping[str, Any], key: str) -> Any:
    """`payload[key]` (absent: null) checked by `model`'s rule for that key; a refusal is the 400.

    For operations whose contract places other checks (a lookup, a 404) between a body's fields.
    """
    try:
        return field_value(model, key, payload.get(key))
    except Refused as refused:
        raise refused_request(refused.body) from None


M = TypeVar("M", bound=BaseModel)


def read_model(model: type[M], payload: dict[str, Any]) -> M:
    """`payload` read by `model`; its first refusal (in field order) is the contract's 400."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise refused_request(refused(exc).body) from None
