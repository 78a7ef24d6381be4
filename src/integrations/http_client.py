"""The outbound calls' shared rules: the connection bound, the read cap, the stored parts of an answer, error texts.

The calls themselves go through aiohttp (`src.integrations.run_calls`); failures keep httpx's exception
types, which callers classify here.
"""

from __future__ import annotations

import email.message
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from src import APP_VERSION
from src.config import Settings
from src.integrations.url_guard import BlockedAddress

# Response bodies are stored trimmed to 1000 characters; UTF-8 needs at most 4 bytes each.
MAX_STORED_CHARS = 1000
MAX_READ_BYTES = MAX_STORED_CHARS * 4
# A run's `response_excerpt`: the first 1 KB of the body, when the body is text.
EXCERPT_BYTES = 1024
USER_AGENT = f"cron-job-backend/{APP_VERSION}"
_TEXT_TYPES = ("json", "xml", "javascript", "x-www-form-urlencoded")


def total_connections(settings: Settings) -> int:
    """Outbound connections a process may hold open at once."""
    return max(100, settings.SCHEDULER_MAX_CONCURRENT_RUNS * 2)


@dataclass(frozen=True)
class CappedResponse:
    status_code: int
    text: str
    # The first EXCERPT_BYTES of the body as text; None when the body is not text.
    excerpt: str | None = None
    retry_after: str | None = None


def _is_text(content_type: str | None, raw: bytes) -> bool:
    """Text by its declared type; without one, when the bytes decode as UTF-8 (a cut last character aside)."""
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        return media.startswith("text/") or any(kind in media for kind in _TEXT_TYPES)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data"
    return True


def capped_response(status_code: int, headers: Mapping[str, str], body: bytes) -> CappedResponse:
    """The stored parts of an answer: its first MAX_READ_BYTES decoded in its charset, the excerpt when text.

    `headers` answers lowercase names (httpx.Headers, or a dict of lowercase names).
    """
    raw = body[:MAX_READ_BYTES]
    encoding = _charset(headers.get("content-type")) or "utf-8"
    try:
        text = raw.decode(encoding, errors="replace")
        head = raw[:EXCERPT_BYTES].decode(encoding, errors="ignore")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
        head = raw[:EXCERPT_BYTES].decode("utf-8", errors="ignore")
    excerpt = head if _is_text(headers.get("content-type"), raw[:EXCERPT_BYTES]) else None
    return CappedResponse(status_code, text[:MAX_STORED_CHARS], excerpt, headers.get("retry-after"))


def _charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type, read as httpx's `Response.charset_encoding` reads it."""
    if not content_type or "charset" not in content_type.lower():
        return None
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_charset(failobj=None)


def describe_error(exc: BaseException) -> str:
    """Readable text for an outbound failure (httpx timeouts often carry an empty message)."""
    text = str(exc).strip()
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__
        return f"Request timed out ({kind}): {text}" if text else f"Request timed out ({kind})"
    return text or type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """A network failure another attempt may not meet (not a refused URL or address)."""
    if not isinstance(exc, httpx.TransportError) or isinstance(exc, httpx.UnsupportedProtocol):
        return False
    return not isinstance(exc.__cause__, BlockedAddress)
