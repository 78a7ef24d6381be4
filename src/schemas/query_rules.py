"""Query-string value types of contract 1.2 and 1.7, stated so the document says what is accepted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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


def _instant(raw: Any) -> Instant | None:
    """1.7: `YYYY-MM-DD`, or an ISO 8601 date-time (`Z`, an offset, or naive = UTC); blank → None."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        raise refusal(INVALID_DATE, INVALID_DATE_MESSAGE)
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return Instant(datetime(day.year, day.month, day.day), True)
        value = datetime.fromisoformat(text.replace("z", "Z"))
        # An offset can carry an instant past the calendar's ends (0001-01-01T00:00+09:00).
        return Instant(value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value, False)
    except (ValueError, OverflowError):
        raise refusal(INVALID_DATE, INVALID_DATE_MESSAGE) from None


_INSTANT_SCHEMA = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
QueryInstant = Annotated[Instant | None, BeforeValidator(_instant)]


class DateRangeQuery(BaseModel):
    """`from` (inclusive) and `to` (exclusive; a date-only `to` includes its day) of 1.7."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    date_from: Annotated[QueryInstant, WithJsonSchema({
        **_INSTANT_SCHEMA, "description": "YYYY-MM-DD or ISO 8601 date-time, inclusive (a naive time is UTC)",
    })] = Field(None, alias="from")
    date_to: Annotated[QueryInstant, WithJsonSchema({
        **_INSTANT_SCHEMA, "description": "YYYY-MM-DD (that day included) or ISO 8601 date-time, exclusive",
    })] = Field(None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> DateRangeQuery:
        self.range()  # refuses an empty or past-the-calendar range while the request is parsed
        return self

    def range(self) -> DateRange:
        start = self.date_from.value if self.date_from else None
        end = self.date_to.value if self.date_to else None
        if self.date_to and self.date_to.date_only and end is not None:
            try:
                end += timedelta(days=1)
            except OverflowError:  # 9999-12-31: its day's end is past what a datetime holds
                raise refusal(INVALID_DATE, INVALID_DATE_MESSAGE) from None
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
