"""Query-string value types of contract 1.2 and 1.7, stated so the document says what is accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from src.schemas.contract_errors import envelope_of, refusal

TRUE_WORDS = ("1", "true", "yes", "y", "on")


def lenient_int(default: int, minimum: int, maximum: int | None = None, *, below_minimum: int | None = None) -> Any:
    """1.7: an integer query value; other text → `default`, out of range → clamped (never a 400).

    `below_minimum`, when given, replaces values under `minimum` instead of clamping them.
    """

    def read(value: Any) -> int:
        try:
            number = int(value.strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            return default
        if number < minimum:
            return below_minimum if below_minimum is not None else minimum
        return min(number, maximum) if maximum is not None else number

    bounds = f"{minimum}..{maximum}" if maximum is not None else f"at least {minimum}"
    return Annotated[int, BeforeValidator(read), WithJsonSchema({
        "type": "string",
        "description": f"An integer ({bounds}, default {default}); other text means the default, "
                       "values out of range are clamped.",
    })]


def _flag(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


# 1.2: true iff the value, lower-cased, is one of TRUE_WORDS; any other text is false.
QueryFlag = Annotated[bool, BeforeValidator(_flag), WithJsonSchema({
    "type": "string", "description": "True for 1, true, yes, y or on (any case); any other text is false.",
})]


def _blank_is_none(value: Any) -> Any:
    return (value.strip() or None) if isinstance(value, str) else value


# A text filter: trimmed, blank counts as absent.
QueryText = Annotated[str | None, BeforeValidator(_blank_is_none), WithJsonSchema({"type": "string"})]


def split_list(value: str | None) -> list[str]:
    """A comma-separated query value's items, trimmed, empties dropped.

    (The field stays a string: FastAPI reads a list-typed query field from repeated names.)
    """
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def case_insensitive_pattern(words: tuple[str, ...]) -> str:
    """A regular expression alternation matching each word in any case (JSON Schema has no flag)."""
    return "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word) for word in words)


# --- date ranges (1.7) -----------------------------------------------------------------------

INVALID_DATE = "Invalid date"
INVALID_DATE_MESSAGE = "Invalid date format. Use YYYY-MM-DD or ISO datetime."


@dataclass(frozen=True)
class DateRange:
    """Effective `[from, to)` bounds in naive UTC; either may be open."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Instant:
    """A `from`/`to` value in naive UTC, and whether it was written as a date only."""

    value: datetime
    date_only: bool


# 1.7's accepted forms as one pattern, shared by the document and the parser so the two cannot
# drift: a calendar date (real days only, years 0001-9999), optionally followed by a time
# (`T`, `t` or a space; seconds, a fraction, and `Z` or an offset optional), surrounded by
# whitespace (trimmed, 1.1); only whitespace means absent. Spelled in ASCII classes so every
# engine (Python, the document's readers) reads it alike.
_SPACE = r"[ \t\n\r\f\v]*"
_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_MONTH_DAY = (r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
              r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
              r"|02-(?:0[1-9]|1[0-9]|2[0-8]))")
_LEAP_DAY = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:\.[0-9]+)?)?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
INSTANT_PATTERN = (f"^{_SPACE}(?:(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})"
                   f"(?:[Tt ]{_TIME}{_OFFSET}?)?)?{_SPACE}$")
_INSTANT = re.compile(
    r"[ \t\n\r\f\v]*(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?)?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))?)?"
    r"[ \t\n\r\f\v]*"
)
_INSTANT_SHAPE = re.compile(INSTANT_PATTERN)


def _instant(raw: Any) -> Instant | None:
    """1.7: `YYYY-MM-DD`, or a date-time (`Z`, an offset, or naive = UTC); blank → None.

    An instant past what a datetime holds (an offset carrying 0001-01-01 before the calendar, a
    leap second on 9999-12-31) is the calendar's first or last instant: as a bound it selects
    the same rows.
    """
    if raw is None:
        return None
    if not isinstance(raw, str) or _INSTANT_SHAPE.fullmatch(raw) is None:
        raise refusal(INVALID_DATE, INVALID_DATE_MESSAGE)
    parts = _INSTANT.fullmatch(raw)
    if parts is None:  # only whitespace
        return None
    day = date.fromisoformat(parts["date"])
    if parts["hour"] is None:
        return Instant(datetime(day.year, day.month, day.day), True)
    fraction = (parts["fraction"] or "")[:6].ljust(6, "0")
    local = timedelta(hours=int(parts["hour"]), minutes=int(parts["minute"]), seconds=int(parts["second"] or 0),
                      microseconds=int(fraction))
    if parts["sign"]:
        offset = timedelta(hours=int(parts["off_hour"]), minutes=int(parts["off_minute"]))
        local -= offset if parts["sign"] == "+" else -offset
    try:
        return Instant(datetime(day.year, day.month, day.day) + local, False)
    except OverflowError:
        return Instant(datetime.min if local < timedelta(0) else datetime.max, False)


_INSTANT_SCHEMA = {"type": "string", "pattern": INSTANT_PATTERN}
QueryInstant = Annotated[Instant | None, BeforeValidator(_instant)]


class DateRangeQuery(BaseModel):
    """`from` (inclusive) and `to` (exclusive; a date-only `to` includes its day) of 1.7."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    date_from: Annotated[QueryInstant, WithJsonSchema({
        **_INSTANT_SCHEMA,
        "description": "YYYY-MM-DD or ISO 8601 date-time, inclusive (a naive time is UTC); blank: no bound",
    })] = Field(None, alias="from")
    date_to: Annotated[QueryInstant, WithJsonSchema({
        **_INSTANT_SCHEMA,
        "description": "YYYY-MM-DD (that day included) or ISO 8601 date-time, exclusive; blank: no bound",
    })] = Field(None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> DateRangeQuery:
        self.range()  # refuses an empty range while the request is parsed
        return self

    def range(self) -> DateRange:
        start = self.date_from.value if self.date_from else None
        end = self.date_to.value if self.date_to else None
        if self.date_to and self.date_to.date_only and end is not None:
            try:
                end += timedelta(days=1)
            except OverflowError:  # 9999-12-31: its day's end is past what a datetime holds
                end = datetime.max
        if start is not None and end is not None and start >= end:
            raise refusal("Invalid date range", '"from" must be earlier than "to".')
        return DateRange(start, end)


class DeferredRefusal(BaseModel):
    """A model whose refusal waits: parsing always succeeds, `refusal` holds the first failure's
    envelope, and the caller raises it where the contract places it (e.g. after a 404)."""

    _refusal: dict[str, Any] | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _defer(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            refused = cls.model_construct()
            refused._refusal = envelope_of(exc.errors())
            return refused

    @property
    def refusal(self) -> dict[str, Any] | None:
        """The envelope of the first failure, or None when every value was accepted."""
        return self._refusal
