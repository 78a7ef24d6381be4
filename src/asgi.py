"""The embedded single-port composition, for a machine without nginx.

`uvicorn --factory src.asgi:create_app`: FastAPI serves `/api/v2/*`, `/health` and everything
else; the Flask app, through a2wsgi, serves the rest of `/api/*` with its path unchanged (its
blueprints carry the `/api` prefix). A plain Starlette mount at `/api` would also catch
`/api/v2/...` paths FastAPI answers with 405, so a prefix test dispatches instead. Nothing is
created at import time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from flask import Flask

from src.config import Settings, load_settings
from src.fastapi_app.main import API_PREFIX
from src.fastapi_app.main import create_app as create_fastapi_app
from src.flask_app import create_app as create_flask_app
from src.observability.metrics import Metrics

Scope = dict[str, Any]
LEGACY_PREFIX = "/api"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class EmbeddedApp:
    """One ASGI app: `/api/v2` → FastAPI, the rest of `/api` → Flask, lifespan → FastAPI's."""

    def __init__(self, fastapi_app: FastAPI, flask_app: Flask) -> None:
        self.fastapi_app = fastapi_app
        self.flask_app = flask_app
        self.flask_asgi = WSGIMiddleware(flask_app)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.fastapi_app(scope, receive, self._closing_flask_at_shutdown(send))
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and _under(path, LEGACY_PREFIX) and not _under(path, API_PREFIX):
            await self.flask_asgi(scope, receive, send)
            return
        await self.fastapi_app(scope, receive, send)

    def _closing_flask_at_shutdown(self, send: Any) -> Any:
        async def send_after_flask_closed(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                # The Flask runtime (its loop thread, its scheduler host) ends with the server.
                await asyncio.to_thread(self.flask_app.extensions["runtime"].close)
            await send(message)

        return send_after_flask_closed


def create_app(settings: Settings | None = None) -> EmbeddedApp:
    """Both doors over one settings object, composed on one port, counted in one registry.

    FastAPI answers `/metrics` here, with both doors' series (label `door`).
    """
    settings = settings or load_settings()
    metrics = Metrics()
    return EmbeddedApp(create_fastapi_app(settings, metrics), create_flask_app(settings, metrics))
