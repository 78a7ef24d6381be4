"""JSON body field types of contract 1.2 shared by the request models."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from src.schemas.contract_errors import INVALID_PAYLOAD, must_be_string, refusal


def _truthy(value: Any) -> bool:
    """1.2: JSON truthiness (false, 0, "", null, [], {} are false; "false" is true)."""
    return bool(value)


# What 1.2 accepts for a boolean: any JSON value, read by its truthiness.
Truthy = Annotated[
    bool, BeforeValidator(_truthy),
    WithJsonSchema({"description": 'Any JSON value, read by truthiness: false, 0, "", null, [], {} are false.'}),
]


def optional_text(field: str, error: PydanticCustomError | None = None) -> Any:
    """A trimmed optional string (blank/null → None); another type → `error`, else 1.2's generic 400."""

    def check(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise error or must_be_string(field)
        return value.strip() or None

    return Annotated[str | None, BeforeValidator(check), WithJsonSchema({"type": ["string", "null"]})]


def required_text(error: PydanticCustomError) -> Any:
    """A trimmed non-blank string; blank, null or another type → `error`."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise error
        return value.strip()

    return Annotated[str, BeforeValidator(check), WithJsonSchema({"type": "string", "pattern": r"\S"})]


def _number(field: str) -> Any:
    def check(value: Any) -> float | None:
        """1.2: a JSON number or numeric string; null → None; anything else (or not finite) → 400."""
        if value is None:
            return None
        result: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                result = None
        if result is None or not math.isfinite(result):
            raise refusal(INVALID_PAYLOAD, f'"{field}" must be a number.')
        return result

    return check


# A numeric string as 1.2 reads it (Python's float syntax, finite), for the document.
NUMERIC_TEXT_PATTERN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


def lenient_number(field: str, description: str) -> Any:
    """A JSON number or numeric string (1.2's numeric fields); null → None."""
    return Annotated[float | None, BeforeValidator(_number(field)), WithJsonSchema({
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": NUMERIC_TEXT_PATTERN}, {"type": "null"}],
        "description": description,
    })]
