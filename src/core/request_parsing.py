"""Request parsing rules of contract 1.2 and 1.7, shared so both doors parse alike."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from src.core.clock import format_utc, to_naive_utc
from src.core.errors import Invalid, PayloadTooLarge, unstorable_value

MISSING: Any = object()
TRUE_WORDS = {"1", "true", "yes", "y", "on"}
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


# --- body fields ---------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """JSON truthiness: false, 0, "", null, [], {} are false; everything else is true."""
    return bool(value)


def optional_str(payload: dict[str, Any], key: str, *, error: Invalid | None = None) -> str | None:
    """A trimmed string field; absent, null or blank → None; a non-string → 400."""
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise error or Invalid("Invalid payload", f'"{key}" must be a string.')
    value = value.strip()
    return value or None


def number(payload: dict[str, Any], key: str) -> float | None:
    """A JSON number or numeric string; absent/null → None; anything else → 400."""
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise Invalid("Invalid payload", f'"{key}" must be a number.')
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise Invalid("Invalid payload", f'"{key}" must be a number.') from None
    else:
        raise Invalid("Invalid payload", f'"{key}" must be a number.')
    if not math.isfinite(result):
        raise Invalid("Invalid payload", f'"{key}" must be a number.')
    return result


# --- query strings -------------------------------------------------------------------------


def query_int(raw: str | None, default: int, *, minimum: int, maximum: int | None = None) -> int:
    """An integer query value: unparseable → default, out of range → clamped."""
    try:
        value = int((raw or "").strip())
    except ValueError:
        return default
    value = max(minimum, value)
    if maximum is not None:
        value = min(maximum, value)
    return value


def query_bool(raw: str | None) -> bool:
    return (raw or "").strip().lower() in TRUE_WORDS


def query_list(raw: str | None) -> list[str]:
    """Comma-separated values, trimmed, empties dropped."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


@dataclass(frozen=True)
class DateRange:
    """Effective `[from, to)` bounds in naive UTC; either may be open."""

    start: datetime | None = None
    end: datetime | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"from": format_utc(self.start), "to": format_utc(self.end)}


def _invalid_date() -> Invalid:
    return Invalid("Invalid date", "Invalid date format. Use YYYY-MM-DD or ISO datetime.")


def _parse_instant(raw: str) -> tuple[datetime, bool]:
    text = raw.strip()
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise _invalid_date() from None
        return datetime(day.year, day.month, day.day), True
    try:
        # An offset can carry an instant past the calendar's ends (0001-01-01T00:00+09:00).
        return to_naive_utc(datetime.fromisoformat(text.replace("z", "Z"))), False
    except (ValueError, OverflowError):
        raise _invalid_date() from None


def parse_date_range(raw_from: str | None, raw_to: str | None) -> DateRange:
    """The contract's `from` (inclusive) / `to` (exclusive; a date-only `to` includes its day)."""
    start = end = None
    if raw_from is not None and raw_from.strip():
        start, _ = _parse_instant(raw_from)
    if raw_to is not None and raw_to.strip():
        end, date_only = _parse_instant(raw_to)
        if date_only:
            try:
                end += timedelta(days=1)
            except OverflowError:  # 9999-12-31: its day's end is past what a datetime holds
                raise _invalid_date() from None
    if start is not None and end is not None and start >= end:
        raise Invalid("Invalid date range", '"from" must be earlier than "to".')
    return DateRange(start, end)
