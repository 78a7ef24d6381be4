"""A job's request settings (contract 7.8): method, headers, body, timeout, retries, signing.

Every field is optional; a job that sets none is called exactly as before the fields existed
(8.1). `column_values` checks the keys present in a create/update body and returns the columns to
store; `settings_of` reads them back for a run.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from src.core.errors import Invalid
from src.core.job_fields import json_object
from src.models import Job

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
TIMEOUT_RANGE = (1, 300)
RETRIES_RANGE = (0, 10)
BACKOFF_RANGE = (1, 3600)
DEFAULT_MAX_RETRIES = 0
DEFAULT_BACKOFF_SECONDS = 10
MAX_HEADERS = 50
MAX_HEADER_NAME = 256
MAX_HEADER_VALUE = 8192
MAX_REQUEST_BODY = 100_000
# Standard Webhooks: the key is 24 to 64 random bytes, shown as `whsec_` + base64.
SECRET_PREFIX = "whsec_"
SECRET_BYTES = (24, 64)

# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection, Host and Content-Length to the
# client; the signature headers are ours when signing is on.
REFUSED_HEADERS = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
    "trailer", "transfer-encoding", "upgrade", "host", "content-length",
    "webhook-id", "webhook-timestamp", "webhook-signature",
})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

INVALID_METHOD = "Invalid http_method"
INVALID_HEADERS = "Invalid http_headers"
INVALID_BODY = "Invalid request_body"
INVALID_TIMEOUT = "Invalid timeout_seconds"
INVALID_RETRIES = "Invalid max_retries"
INVALID_BACKOFF = "Invalid retry_backoff_seconds"
INVALID_SECRET = "Invalid signing_secret"


@dataclass(frozen=True)
class RequestSettings:
    """How a run calls its target; secrets stay out of repr so they never reach a log."""

    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: str | None = field(default=None, repr=False)
    timeout_seconds: int | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_backoff_seconds: int = DEFAULT_BACKOFF_SECONDS
    signing_secret: str | None = field(default=None, repr=False)

    @property
    def attempts_allowed(self) -> int:
        return 1 + self.max_retries


def parse_method(value: Any) -> str | None:
    """One of HTTP_METHODS (any case, stored upper-case); null/blank → None (today's rule)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().upper() in HTTP_METHODS:
        return value.strip().upper()
    raise Invalid(INVALID_METHOD, f"http_method must be one of {', '.join(HTTP_METHODS)}.")


def parse_headers(value: Any) -> dict[str, str]:
    """An object of header name → string value; null → {}; refused names and bad values → 400."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(INVALID_HEADERS, "http_headers must be an object of header name to string value.")
    if len(value) > MAX_HEADERS:
        raise Invalid(INVALID_HEADERS, f"http_headers may hold at most {MAX_HEADERS} headers.")
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for name, header_value in value.items():
        if not _TOKEN.fullmatch(name) or len(name) > MAX_HEADER_NAME:
            raise Invalid(INVALID_HEADERS, f'"{name[:MAX_HEADER_NAME]}" is not a valid header name.')
        if name.lower() in REFUSED_HEADERS:
            raise Invalid(INVALID_HEADERS, f'The header "{name}" cannot be set on a job.')
        if name.lower() in seen:
            raise Invalid(INVALID_HEADERS, f'The header "{name}" is given twice.')
        # The value itself is never echoed: it may be a credential.
        if not isinstance(header_value, str) or len(header_value) > MAX_HEADER_VALUE \
                or _BAD_VALUE.search(header_value):
            raise Invalid(
                INVALID_HEADERS,
                f'The value of "{name}" must be a string of at most {MAX_HEADER_VALUE} characters '
                "without control characters.",
            )
        seen.add(name.lower())
        headers[name] = header_value
    return headers


def parse_body(value: Any) -> str | None:
    """A string sent as is; null → None (the metadata rule of 8.1 applies)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(INVALID_BODY, "request_body must be a string.")
    if len(value) > MAX_REQUEST_BODY:
        raise Invalid(INVALID_BODY, f"request_body may be at most {MAX_REQUEST_BODY} characters.")
    return value


def bounded_int(value: Any, bounds: tuple[int, int], error: str, name: str) -> int | None:
    """A JSON integer within `bounds` (not a float, string or boolean); null → None."""
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(error, f"{name} must be an integer from {low} to {high}.")
    return value


def parse_timeout(value: Any) -> int | None:
    return bounded_int(value, TIMEOUT_RANGE, INVALID_TIMEOUT, "timeout_seconds")


def parse_max_retries(value: Any) -> int | None:
    return bounded_int(value, RETRIES_RANGE, INVALID_RETRIES, "max_retries")


def parse_backoff(value: Any) -> int | None:
    return bounded_int(value, BACKOFF_RANGE, INVALID_BACKOFF, "retry_backoff_seconds")


def signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (raises ValueError when malformed)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("missing prefix")
    key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise ValueError("wrong length")
    return key


def parse_secret(value: Any) -> str | None:
    """`whsec_` + base64 of 24–64 bytes; null/"" → None (signing off)."""
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        signing_key(value)
    except (ValueError, binascii.Error):
        raise Invalid(
            INVALID_SECRET,
            f"signing_secret must be \"{SECRET_PREFIX}\" followed by the base64 of "
            f"{SECRET_BYTES[0]} to {SECRET_BYTES[1]} random bytes.",
        ) from None
    return value


def _headers_column(value: Any) -> str | None:
    headers = parse_headers(value)
    return json.dumps(headers) if headers else None


# (payload key = column, parser returning the stored value) in the order of 7.8.
_FIELDS: tuple[tuple[str, Any], ...] = (
    ("http_method", parse_method),
    ("http_headers", _headers_column),
    ("request_body", parse_body),
    ("timeout_seconds", parse_timeout),
    ("max_retries", parse_max_retries),
    ("retry_backoff_seconds", parse_backoff),
    ("signing_secret", parse_secret),
)
FIELD_NAMES = tuple(name for name, _ in _FIELDS)


def column_values(payload: dict[str, Any]) -> dict[str, Any]:
    """The request-setting columns for the keys present in `payload` (rules of 7.8, in order)."""
    return {name: parse(payload[name]) for name, parse in _FIELDS if name in payload}


def stored_headers(text: str | None) -> dict[str, str]:
    """The stored header object (`{}` when null or unreadable)."""
    return {str(name): str(header) for name, header in json_object(text).items()}


def settings_of(job: Job | Any) -> RequestSettings:
    """The request settings stored on a job (or a row with its attribute names)."""
    return RequestSettings(
        method=job.http_method,
        headers=stored_headers(job.http_headers),
        body=job.request_body,
        timeout_seconds=job.timeout_seconds,
        max_retries=DEFAULT_MAX_RETRIES if job.max_retries is None else job.max_retries,
        retry_backoff_seconds=DEFAULT_BACKOFF_SECONDS if job.retry_backoff_seconds is None
        else job.retry_backoff_seconds,
        signing_secret=job.signing_secret,
    )
