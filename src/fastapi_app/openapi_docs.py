"""Helpers that make /api/v2/openapi.json describe the real API.

Bodies are parsed by the core's shared rules (so both doors give the same 400s), not by
FastAPI's validation; the request models are therefore attached as documentation only.
The text of each operation lives in `operation_docs`.
"""

from __future__ import annotations

import copy
import json
from typing import Any, TypedDict

from fastapi import FastAPI
from pydantic import BaseModel

from src.fastapi_app.operation_docs import TAGS, operation_doc
from src.fastapi_app.request_examples import request_example
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


class RouteDoc(TypedDict):
    """A route decorator's documentation keywords, typed so `**doc` is checked like keyword arguments."""

    responses: dict[int | str, dict[str, Any]]
    openapi_extra: dict[str, Any]


def route_doc(model: type[BaseModel], *codes: int) -> RouteDoc:
    """The error answers and the JSON request body of a route documented by hand."""
    return RouteDoc(responses=error_responses(*codes), openapi_extra=json_body(model))


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

    return inline(schema)


def json_body(model: type[BaseModel], *, required: bool = True, others_ignored: bool = False) -> dict[str, Any]:
    """`openapi_extra=` documenting a JSON request body with `model`'s schema.

    `others_ignored`: any other JSON is accepted and ignored (logout, 3.5), so the document says
    "this shape, or anything" rather than refusing what the route takes.
    """
    schema = body_schema(model)
    if others_ignored:
        # No types: the named keys are shown, and no body or value is one the route would refuse.
        untyped = ("type", "anyOf", "pattern", "minLength", "maxLength")
        schema = {key: value for key, value in schema.items() if key not in untyped}
        schema["properties"] = {name: {key: value for key, value in field.items() if key not in untyped}
                                for name, field in schema.get("properties", {}).items()}
    return {"requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}}


def form_body(model: type[BaseModel], media_type: str = "application/x-www-form-urlencoded") -> dict[str, Any]:
    """`openapi_extra=` documenting a form body (login form, CSV upload)."""
    return {"requestBody": {"required": True, "content": {media_type: {"schema": body_schema(model)}}}}


def finish_document(app: FastAPI, prefix: str) -> None:
    """Complete the generated document: descriptions, every error status, one auth story.

    FastAPI's automatic 422 goes (this door answers 400 envelopes); each operation gets its text
    from `operation_docs`, the 503 every database-backed answer can be, the 413 of any body; and
    the password form is offered beside the bearer token in Swagger's Authorize dialog.
    """
    build_default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_default()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                _complete_operation(operation, method.upper(), path.removeprefix(prefix))
        components = schema.setdefault("components", {})
        schemas = components.get("schemas", {})
        if "#/components/schemas/HTTPValidationError" not in json.dumps(schema.get("paths", {})):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        components.setdefault("securitySchemes", {})[PASSWORD_FORM] = {
            "type": "oauth2",
            "description": "Username (or email) and password; the client id and secret are not used.",
            "flows": {"password": {"tokenUrl": f"{prefix}/auth/login/form", "scopes": {}}},
        }
        schema["tags"] = TAGS
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # replacing the method is the point


PASSWORD_FORM = "passwordForm"


def _complete_operation(operation: dict[str, Any], method: str, path: str) -> None:
    doc = operation_doc(method, path)
    if doc is not None:
        operation["summary"], operation["description"] = doc
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    # 400: every route refuses URL text the database cannot store (a NUL byte, in any query
    # argument); 401: every secured one; 413 any body; 503 whatever reaches the database.
    codes = [400, 503] + ([401] if operation.get("security") else []) + ([413] if "requestBody" in operation else [])
    for code in codes:
        responses.setdefault(str(code), _error_response_object(code))
    operation["responses"] = dict(sorted(responses.items()))
    example = request_example(method, path)
    for media in operation.get("requestBody", {}).get("content", {}).values():
        if example is not None and "example" not in media and "examples" not in media:
            media["example"] = example
    if operation.get("security"):
        # Either scheme authorizes: a pasted token, or the password form that fetches one.
        operation["security"] = [*operation["security"], {PASSWORD_FORM: []}]


def _error_response_object(code: int) -> dict[str, Any]:
    """The document's form of what `error_responses` gives a route decorator."""
    return {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
