"""Hosting the shadow-read comparer in the FastAPI process: its intake and its lifetime.

nginx's mirror location (side-by-side phase) posts each /api request here as headers only
(`X-Shadow-Method`, `X-Shadow-URI`, the client's own headers). The intake is the outermost
plain-ASGI layer: it answers 204 before routing, CORS, metrics or the request log, because
every /api request comes through it (bench.api.shadow: through the whole FastAPI stack, the
intake alone cost Flask's clients more than the comparisons). The comparison runs afterwards
on this event loop. From outside, nginx answers 404 for `/_shadow/` (its location is internal).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from src.config import Settings
from src.core.parity import ParityBatch, record_batch
from src.observability.metrics import Metrics
from src.shadow.comparer import Comparer

MIRROR_PATH = "/_shadow/mirror"
_NO_CONTENT = {"type": "http.response.start", "status": 204, "headers": [(b"x-served-by", b"fastapi")]}
_EMPTY_BODY = {"type": "http.response.body", "body": b""}


class MirrorIntake:
    """Takes POST MIRROR_PATH before anything else runs; every other request passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != MIRROR_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        comparer: Comparer | None = getattr(scope["app"].state, "shadow_comparer", None)
        if comparer is not None:
            headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
            comparer.offer(headers.get("x-shadow-method", ""), headers.get("x-shadow-uri", ""), headers)
        await send(_NO_CONTENT)
        await send(_EMPTY_BODY)


def read_route_resolver(routers: list[APIRouter], prefix: str) -> Callable[[str], str | None]:
    """Path → the template of the GET route that answers it, in the app's own matching order
    (routers in inclusion order; FastAPI keeps included routers whole, not as prefixed copies)."""
    routes = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.methods and "GET" in route.methods:
                regex, _format, _convertors = compile_path(prefix + route.path)
                routes.append((regex, prefix + route.path))

    def resolve(path: str) -> str | None:
        return next((template for regex, template in routes if regex.match(path)), None)

    return resolve


def start_comparer(resolve: Callable[[str], str | None], settings: Settings, metrics: Metrics,
                   sessions: sessionmaker[Session]) -> Comparer | None:
    """The process's comparer, flushing results once a second; None when SHADOW_READS is off."""
    if not settings.SHADOW_READS:
        return None

    def store(batch: ParityBatch) -> None:
        record_batch(sessions, batch)

    comparer = Comparer(settings, metrics, resolve, store)
    comparer.start()
    return comparer
