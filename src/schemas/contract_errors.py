"""Request-model failures carrying the contract's own `error`/`message` (1.2, 1.3).

A field rule refuses with `refusal(...)`; pydantic reports failures in field order, so a model
whose fields are declared in the contract's order names the contract's first failure first.
`envelope_of` turns the first failure into the envelope body both doors answer with (400).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

CONTRACT_ERROR = "contract_error"
INVALID_PAYLOAD = "Invalid payload"


def refusal(error: str, message: str | None = None, **extra: Any) -> PydanticCustomError:
    """A validation failure whose envelope is `{"error": error, "message": message, **extra}`."""
    return PydanticCustomError(CONTRACT_ERROR, error, {"error": error, "message": message, "extra": extra})


def must_be_string(field: str) -> PydanticCustomError:
    """1.2: a string field given a number, boolean, array or object (no rule of its own)."""
    return refusal(INVALID_PAYLOAD, f'"{field}" must be a string.')


def _field_name(failure: Mapping[str, Any]) -> str:
    location = [str(part) for part in failure.get("loc", ()) if part not in ("body", "query", "path")]
    return ".".join(location)


def envelope_of(failures: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The envelope body of the first failure (a rule's own text, else the generic 400 of 1.2)."""
    for failure in failures:
        context = failure.get("ctx") or {}
        if failure.get("type") == CONTRACT_ERROR and "error" in context:
            body: dict[str, Any] = {"error": context["error"]}
            if context.get("message") is not None:
                body["message"] = context["message"]
            body.update(context.get("extra") or {})
            return body
        break
    fields = [name for failure in failures if (name := _field_name(failure))]
    if fields:
        first = fields[0]
        if failures[0].get("type") == "string_type":
            return {"error": INVALID_PAYLOAD, "message": f'"{first}" must be a string.'}
        return {"error": INVALID_PAYLOAD, "message": "Invalid value for: " + ", ".join(dict.fromkeys(fields)) + "."}
    return {"error": INVALID_PAYLOAD, "message": "Request is not valid."}


@cache
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    annotation: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(annotation)


class Refused(ValueError):
    """A request value refused by a model's rule; `body` is the contract's envelope."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("message") or body["error"])
        self.body = body


def refused(exc: ValidationError) -> Refused:
    return Refused(envelope_of(exc.errors()))


def field_value(model: type[BaseModel], name: str, raw: Any) -> Any:
    """`raw` checked by one field of `model` alone, raising `Refused` with the field's failure.

    For callers that interleave other checks (a database lookup) between fields, in order.
    """
    try:
        return _field_adapter(model, name).validate_python(raw)
    except ValidationError as exc:
        raise Refused(envelope_of([{**error, "loc": (name, *error["loc"])} for error in exc.errors()])) from None
