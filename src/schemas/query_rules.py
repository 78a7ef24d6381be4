"""Query-string value types of contract 1.2 and 1.7, stated so the document says what is accepted."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

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


def _items(value: Any) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()] if isinstance(value, str) else []


# Comma-separated values, trimmed, empties dropped.
QueryList = Annotated[list[str], BeforeValidator(_items), WithJsonSchema({
    "type": "string", "description": "One value or a comma-separated list.",
})]


def case_insensitive_pattern(words: tuple[str, ...]) -> str:
    """A regular expression alternation matching each word in any case (JSON Schema has no flag)."""
    return "|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word) for word in words)
