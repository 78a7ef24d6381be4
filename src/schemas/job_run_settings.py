"""The rules of a job's request settings (contract 7.8) and run policy (7.9), field by field.

Each type checks one key of a create or update body, refuses with the contract's own
`error`/`message`, and tells the document what it accepts (ranges, lengths, patterns).
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import BeforeValidator, WithJsonSchema

from src.schemas.contract_errors import refusal
from src.schemas.query_rules import case_insensitive_pattern

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
TIMEOUT_RANGE = (1, 300)
RETRIES_RANGE = (0, 10)
BACKOFF_RANGE = (1, 3600)
THRESHOLD_RANGE = (0, 100)
GRACE_RANGE = (1, 86400)
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
_TOKEN_CHARACTERS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN = re.compile(_TOKEN_CHARACTERS)
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

INVALID_METHOD = "Invalid http_method"
INVALID_HEADERS = "Invalid http_headers"
INVALID_BODY = "Invalid request_body"
INVALID_TIMEOUT = "Invalid timeout_seconds"
INVALID_RETRIES = "Invalid max_retries"
INVALID_BACKOFF = "Invalid retry_backoff_seconds"
INVALID_SECRET = "Invalid signing_secret"
INVALID_THRESHOLD = "Invalid failure_threshold"
INVALID_GRACE = "Invalid grace_seconds"
INVALID_TIMEZONE = "Invalid timezone"


def _method(value: Any) -> str | None:
    """One of HTTP_METHODS (any case, stored upper-case); null/blank → None (8.1's rule)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().upper() in HTTP_METHODS:
        return value.strip().upper()
    raise refusal(INVALID_METHOD, f"http_method must be one of {', '.join(HTTP_METHODS)}.")


def _headers(value: Any) -> dict[str, str]:
    """An object of header name → string value; null → {}; refused names and bad values → 400."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise refusal(INVALID_HEADERS, "http_headers must be an object of header name to string value.")
    if len(value) > MAX_HEADERS:
        raise refusal(INVALID_HEADERS, f"http_headers may hold at most {MAX_HEADERS} headers.")
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for name, header_value in value.items():
        if not _TOKEN.fullmatch(name) or len(name) > MAX_HEADER_NAME:
            raise refusal(INVALID_HEADERS, f'"{name[:MAX_HEADER_NAME]}" is not a valid header name.')
        if name.lower() in REFUSED_HEADERS:
            raise refusal(INVALID_HEADERS, f'The header "{name}" cannot be set on a job.')
        if name.lower() in seen:
            raise refusal(INVALID_HEADERS, f'The header "{name}" is given twice.')
        # The value itself is never echoed: it may be a credential.
        if not isinstance(header_value, str) or len(header_value) > MAX_HEADER_VALUE \
                or _BAD_VALUE.search(header_value):
            raise refusal(
                INVALID_HEADERS,
                f'The value of "{name}" must be a string of at most {MAX_HEADER_VALUE} characters '
                "without control characters.",
            )
        seen.add(name.lower())
        headers[name] = header_value
    return headers


def _body(value: Any) -> str | None:
    """A string sent as is; null → None (the metadata rule of 8.1 applies)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise refusal(INVALID_BODY, "request_body must be a string.")
    if len(value) > MAX_REQUEST_BODY:
        raise refusal(INVALID_BODY, f"request_body may be at most {MAX_REQUEST_BODY} characters.")
    return value


def signing_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (raises ValueError when malformed)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("missing prefix")
    key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise ValueError("wrong length")
    return key


def _secret(value: Any) -> str | None:
    """`whsec_` + base64 of 24–64 bytes; null/"" → None (signing off)."""
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        signing_key(value)
    except (ValueError, binascii.Error):
        raise refusal(
            INVALID_SECRET,
            f"signing_secret must be \"{SECRET_PREFIX}\" followed by the base64 of "
            f"{SECRET_BYTES[0]} to {SECRET_BYTES[1]} random bytes.",
        ) from None
    return value


@cache
def _zone_names() -> frozenset[str]:
    # Read from the tz database once per process, not once per request.
    return frozenset(available_timezones())


def _timezone(value: Any) -> str | None:
    """An IANA zone name (e.g. `America/New_York`), trimmed; null/blank → None (the scheduler's zone)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip() in _zone_names():
        return value.strip()
    raise refusal(INVALID_TIMEZONE, "timezone must be an IANA time zone name such as America/New_York.")


def _bounded(bounds: tuple[int, int], error: str, name: str, description: str) -> Any:
    """A JSON integer within `bounds` (not a float, string or boolean); null → None."""
    low, high = bounds

    def check(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise refusal(error, f"{name} must be an integer from {low} to {high}.")
        return value

    schema = {"type": ["integer", "null"], "minimum": low, "maximum": high, "description": description}
    return Annotated[int | None, BeforeValidator(check), WithJsonSchema(schema)]


_METHOD_PATTERN = "^\\s*(|" + case_insensitive_pattern(HTTP_METHODS) + ")\\s*$"

HttpMethod = Annotated[str | None, BeforeValidator(_method), WithJsonSchema({
    "type": ["string", "null"], "pattern": _METHOD_PATTERN, "examples": ["POST"],
    "description": "GET, POST, PUT, PATCH or DELETE, any case (stored upper-case); null or blank: 8.1's rule.",
})]
HttpHeaders = Annotated[dict[str, str], BeforeValidator(_headers), WithJsonSchema({
    "type": ["object", "null"], "maxProperties": MAX_HEADERS,
    "propertyNames": {"pattern": f"^{_TOKEN_CHARACTERS}$", "maxLength": MAX_HEADER_NAME},
    "additionalProperties": {
        "type": "string", "maxLength": MAX_HEADER_VALUE, "pattern": "^[^\\x00-\\x08\\x0a-\\x1f\\x7f]*$",
    },
    "examples": [{"Content-Type": "application/json"}],
    "description": "Write-only values, each name once (any case); hop-by-hop, Host, Content-Length and "
                   "webhook-id/-timestamp/-signature refused. An update replaces the set; null or {} clears it.",
})]
RequestBody = Annotated[str | None, BeforeValidator(_body), WithJsonSchema({
    "type": ["string", "null"], "maxLength": MAX_REQUEST_BODY,
    "description": "Sent as is; null: the metadata rule of 8.1.",
})]
SigningSecret = Annotated[str | None, BeforeValidator(_secret), WithJsonSchema({
    "type": ["string", "null"], "pattern": f"^({SECRET_PREFIX}[A-Za-z0-9+/]+={{0,2}})?$",
    "description": f'Write-only: {SECRET_PREFIX} + base64 of {SECRET_BYTES[0]}-{SECRET_BYTES[1]} bytes; '
                   'null or "" turns signing off.',
})]
TimeoutSeconds = _bounded(TIMEOUT_RANGE, INVALID_TIMEOUT, "timeout_seconds",
                          "Seconds per call; null: the service's outbound timeout.")
MaxRetries = _bounded(RETRIES_RANGE, INVALID_RETRIES, "max_retries", "Retries after a failed call; null: 0.")
RetryBackoffSeconds = _bounded(BACKOFF_RANGE, INVALID_BACKOFF, "retry_backoff_seconds",
                               "Seconds before the first retry; null: 10.")
FailureThreshold = _bounded(THRESHOLD_RANGE, INVALID_THRESHOLD, "failure_threshold",
                            "Pause after this many consecutive failed runs; 0 or null never.")
GraceSeconds = _bounded(GRACE_RANGE, INVALID_GRACE, "grace_seconds",
                        "Late alert after this many seconds; null never.")
TimeZoneName = Annotated[str | None, BeforeValidator(_timezone), WithJsonSchema({
    "type": ["string", "null"], "examples": ["America/New_York"],
    "description": "IANA time zone name the cron is evaluated in; null or blank: the scheduler's zone.",
})]

# The keys of 7.8, then 7.9, in the order the contract checks them.
REQUEST_SETTING_KEYS = (
    "http_method", "http_headers", "request_body", "timeout_seconds", "max_retries",
    "retry_backoff_seconds", "signing_secret",
)
RUN_POLICY_KEYS = ("failure_threshold", "grace_seconds", "timezone")
