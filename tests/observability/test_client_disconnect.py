"""A client that leaves before its body arrived is logged as 499, not as a server error."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from src.config import Settings
from src.fastapi_app.main import create_app
from tests.conftest import Factory


async def _post_then_disconnect(settings: Settings, path: str, token: str) -> list[dict[str, Any]]:
    """Send half a JSON body, then the ASGI disconnect; return what the app sent back."""
    app = create_app(settings)
    arrivals = iter([
        {"type": "http.request", "body": b'{"name": "half', "more_body": True},
        {"type": "http.disconnect"},
    ])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(arrivals, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json"),
                    (b"content-length", b"100")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8001),
    }
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    return sent


def test_a_client_gone_mid_body_is_answered_499_and_logs_no_error(
    settings: Settings, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    token = factory.token(factory.user("admin"))
    with caplog.at_level(logging.INFO):
        sent = asyncio.run(_post_then_disconnect(settings, "/api/v2/jobs", token))
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [499]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    request_lines = [r for r in caplog.records if r.name == "src.request"]
    assert [getattr(r, "status", None) for r in request_lines] == [499]
