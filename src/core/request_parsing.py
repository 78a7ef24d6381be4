"""How both doors read a request's body and URL before any model sees it (contract 1.2):
content type, JSON syntax, nesting depth, unstorable text, the object shape, the size cap.

What the fields then mean is the request models' (src/schemas): they replaced the field and
query-string parsers this module used to hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from src.core.errors import Invalid, PayloadTooLarge, unstorable_value

# Containers inside containers a JSON body may hold: far above any real payload (job metadata is
# the deepest, a few levels), far below where the parser's recursion gives out (~1,000).
MAX_JSON_DEPTH = 32
# What neither database can hold in text: PostgreSQL refuses NUL, and a lone UTF-16 surrogate
# (JSON's "\ud800") cannot be encoded as UTF-8 for any driver. SQLite would store NUL silently.
_UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_media_type(content_type: str | None) -> bool:
    media = _media_type(content_type)
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def is_storable_text(value: str) -> bool:
    """False when `value` holds a character no supported database stores (NUL, lone surrogates)."""
    return _UNSTORABLE_CHARACTERS.search(value) is None


def refuse_unstorable_text(values: Any) -> None:
    """400 (`unstorable_value`) when any string in `values` (nested JSON values too) is unstorable.

    Also refuses containers nested deeper than MAX_JSON_DEPTH. Iterative, so depth costs no stack.
    """
    pending: list[tuple[Any, int]] = [(values, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if not is_storable_text(value):
                raise unstorable_value()
        elif isinstance(value, dict | list | tuple):
            if depth >= MAX_JSON_DEPTH:
                raise JsonTooDeep()
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


def refuse_unstorable_url_values(path_values: Iterable[str], query: Iterable[tuple[str, str]]) -> None:
    """400 when a path parameter or a query name or value is unstorable, as in a JSON body.

    Such a value reaching a query was a 400 on PostgreSQL and a 200/404 on SQLite.
    """
    refuse_unstorable_text([*path_values, *(text for pair in query for text in pair)])


class JsonTooDeep(Invalid):
    """Containers nested deeper than MAX_JSON_DEPTH (or than the parser's own recursion allows)."""

    def __init__(self) -> None:
        super().__init__("Invalid JSON", f"JSON nesting is deeper than {MAX_JSON_DEPTH} levels.")


def load_json(text: str) -> Any:
    """JSON text as a value every database can store: syntax, nesting depth and strings checked."""
    try:
        value = json.loads(text)
    except RecursionError:  # thousands of nested brackets: the parser's own stack gave out
        raise JsonTooDeep() from None
    except ValueError:
        raise Invalid("Invalid JSON", "Request body is not valid JSON.") from None
    refuse_unstorable_text(value)
    return value


def parse_json_object(content_type: str | None, raw: bytes, *, max_bytes: int = 1048576) -> dict[str, Any]:
    """The body as a JSON object, or the contract's 400/413 for content type, syntax and shape."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge("Payload too large", f"Request body exceeds {max_bytes} bytes.")
    if not is_json_media_type(content_type):
        raise Invalid("Content-Type must be application/json")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("Invalid JSON", "Request body is not valid JSON.") from None
    value = load_json(text)
    if not isinstance(value, dict):
        raise Invalid("Invalid payload", "JSON body must be an object.")
    return value


def parse_optional_json_object(
    content_type: str | None, raw: bytes, *, max_bytes: int = 1048576
) -> dict[str, Any]:
    """Like parse_json_object, but an empty (or whitespace-only) body means `{}`."""
    if not raw.strip():
        return {}
    return parse_json_object(content_type, raw, max_bytes=max_bytes)


def parse_lenient_json_object(raw: bytes) -> dict[str, Any]:
    """Any JSON object in the body, or `{}` for anything else (logout's optional body)."""
    try:
        value = load_json(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, Invalid):
        return {}
    return value if isinstance(value, dict) else {}
