"""Helpers that make /api/v2/openapi.json describe the real API.

Bodies are parsed by the core's shared rules (so both doors give the same 400s), not by
FastAPI's validation; the request models are therefore attached as documentation only.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from src.schemas.common import ErrorBody

_DESCRIPTIONS = {
    400: "Invalid request (content type, JSON, fields or a business rule)",
    401: "Missing, invalid, expired or revoked token; unknown or inactive user",
    403: "Authenticated but not allowed (role gate or ownership)",
    404: "Resource not found",
    409: "Conflict (duplicate username, email or slug; scheduler not leader)",
    413: "Request body too large",
    429: "Too many failed logins",
    503: "Database unavailable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each listed status documented with the error envelope."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS.get(code, "Error")} for code in codes}


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON schema with its `$defs` inlined.

    Pydantic points nested models at `#/$defs/...`, which inside the OpenAPI document would
    resolve against the document root, where nothing is: clients and fuzzers saw no usable body.
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return inline(copy.deepcopy(definitions[reference.removeprefix("#/$defs/")]))
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)  # type: ignore[no-any-return]


def json_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra=` documenting a JSON request body with `model`'s schema."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": body_schema(model)}},
        }
    }


def form_body(model: type[BaseModel], media_type: str = "application/x-www-form-urlencoded") -> dict[str, Any]:
    """`openapi_extra=` documenting a form body (login form, CSV upload)."""
    return {"requestBody": {"required": True, "content": {media_type: {"schema": body_schema(model)}}}}


def drop_validation_error_responses(app: FastAPI) -> None:
    """Keep FastAPI's automatic 422 out of the document: this door answers 400 envelopes instead."""
    build_default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_default()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schemas = schema.get("components", {}).get("schemas", {})
        if "#/components/schemas/HTTPValidationError" not in json.dumps(schema.get("paths", {})):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
