"""The embedded single-port composition, for a machine without nginx.

`uvicorn --factory src.asgi:create_app`: FastAPI serves `/api/v2/*`, `/health` and everything
else. While the legacy door is installed, the Flask app, through a2wsgi, serves the rest of
`/api/*` with its path unchanged (its blueprints carry the `/api` prefix); a plain Starlette mount
at `/api` would also catch `/api/v2/...` paths FastAPI answers with 405, so a prefix test
dispatches instead. Without it (Phase 8 deleted `src/flask_app`), `/api/<path>` is rewritten to
`/api/v2/<path>` in the request scope, as nginx's cutover config does. Nothing is created at
import time, and Flask and a2wsgi are imported only when the legacy door is installed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from src.config import Settings, legacy_door_installed, load_settings
from src.fastapi_app.main import API_PREFIX
from src.fastapi_app.main import create_app as create_fastapi_app
from src.observability.metrics import Metrics

Scope = dict[str, Any]
LEGACY_PREFIX = "/api"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class LegacyDoor:
    """The Flask app as ASGI, and how to end its runtime (loop thread, scheduler host)."""

    asgi: Any
    close: Callable[[], None]


def _legacy_door(settings: Settings, metrics: Metrics) -> LegacyDoor:
    from a2wsgi import WSGIMiddleware

    from src.flask_app import create_app as create_flask_app

    flask_app = create_flask_app(settings, metrics)
    return LegacyDoor(WSGIMiddleware(flask_app), flask_app.extensions["runtime"].close)  # type: ignore[arg-type]  # a2wsgi types its WSGI app narrower than Flask.__call__


def cutover_scope(scope: Scope) -> Scope:
    """The scope of `/api/<path>` as `/api/v2/<path>`: method, query and body unchanged."""
    path = API_PREFIX + scope["path"][len(LEGACY_PREFIX):]
    return {**scope, "path": path, "raw_path": path.encode("utf-8")}


class EmbeddedApp:
    """One ASGI app: `/api/v2` → FastAPI, the rest of `/api` → Flask (or FastAPI by the cutover
    rewrite when there is no legacy door), lifespan → FastAPI's."""

    def __init__(self, fastapi_app: FastAPI, legacy: LegacyDoor | None) -> None:
        self.fastapi_app = fastapi_app
        self.legacy = legacy

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.fastapi_app(scope, receive, self._closing_legacy_at_shutdown(send))
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and _under(path, LEGACY_PREFIX) and not _under(path, API_PREFIX):
            if self.legacy is not None:
                await self.legacy.asgi(scope, receive, send)
            else:
                await self.fastapi_app(cutover_scope(scope), receive, send)
            return
        await self.fastapi_app(scope, receive, send)

    def _closing_legacy_at_shutdown(self, send: Any) -> Any:
        async def send_after_legacy_closed(message: dict[str, Any]) -> None:
            if message["type"] == "lifespan.shutdown.complete" and self.legacy is not None:
                # The Flask runtime (its loop thread, its scheduler host) ends with the server.
                await asyncio.to_thread(self.legacy.close)
            await send(message)

        return send_after_legacy_closed


def create_app(settings: Settings | None = None, *, with_legacy_door: bool | None = None) -> EmbeddedApp:
    """Both doors (or FastAPI alone) over one settings object, on one port, in one registry.

    `with_legacy_door` defaults to whether it is installed; False gives the cutover composition
    even where Flask exists. FastAPI answers `/metrics` here, with both doors' series (label `door`).
    """
    settings = settings or load_settings()
    metrics = Metrics()
    if with_legacy_door is None:
        with_legacy_door = legacy_door_installed()
    legacy = _legacy_door(settings, metrics) if with_legacy_door else None
    return EmbeddedApp(create_fastapi_app(settings, metrics), legacy)
