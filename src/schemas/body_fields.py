"""JSON body field types of contract 1.2 shared by the request models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from src.schemas.contract_errors import must_be_string


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
