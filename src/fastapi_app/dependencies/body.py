"""Request bodies read with a size cap, parsed by the core's shared rules (contract 1.2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel

from src.core.errors import PayloadTooLarge, read_model
from src.core.request_parsing import (
    parse_json_object,
    parse_optional_json_object,
    refuse_unstorable_url_values,
)
from src.fastapi_app.dependencies.database import SettingsDep

BodyReader = Callable[[], dict[str, Any]]


async def read_raw_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) more than `limit` bytes without buffering the excess."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("Payload too large", f"Request body exceeds {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("Payload too large", f"Request body exceeds {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def get_body_reader(request: Request, settings: SettingsDep) -> BodyReader:
    """A parser to call when the contract says the body is checked (after other checks)."""
    raw = await read_raw_body(request, settings.MAX_JSON_BODY_BYTES)
    content_type = request.headers.get("content-type")
    limit = settings.MAX_JSON_BODY_BYTES
    return lambda: parse_json_object(content_type, raw, max_bytes=limit)


async def get_optional_body_reader(request: Request, settings: SettingsDep) -> BodyReader:
    raw = await read_raw_body(request, settings.MAX_JSON_BODY_BYTES)
    content_type = request.headers.get("content-type")
    limit = settings.MAX_JSON_BODY_BYTES
    return lambda: parse_optional_json_object(content_type, raw, max_bytes=limit)


async def get_json_body(reader: Annotated[BodyReader, Depends(get_body_reader)]) -> dict[str, Any]:
    return reader()


BodyReaderDep = Annotated[BodyReader, Depends(get_body_reader)]
OptionalBodyReaderDep = Annotated[BodyReader, Depends(get_optional_body_reader)]
JsonBodyDep = Annotated[dict[str, Any], Depends(get_json_body)]


async def refuse_unstorable_url_text(request: Request) -> None:
    """Every route's path parameters and query string hold only text the database can store."""
    refuse_unstorable_url_values(request.path_params.values(), request.query_params.multi_items())


M = TypeVar("M", bound=BaseModel)


def body_model(model: type[M]) -> Callable[..., Awaitable[M]]:
    """A dependency: the JSON object body (1.2's reading rules) read by `model` (the Flask door
    reads it with the same model). Routes document the body with `json_body(model)`."""

    async def parse(reader: Annotated[BodyReader, Depends(get_body_reader)]) -> M:
        return read_model(model, reader())

    return parse
