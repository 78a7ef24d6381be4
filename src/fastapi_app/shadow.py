"""Hosting the shadow-read comparer in the FastAPI process: its internal route and its lifetime.

nginx's mirror location (side-by-side phase) posts each /api read here as headers only
(`X-Shadow-Method`, `X-Shadow-URI`, the client's own headers). The route answers 204 at once;
the comparison runs afterwards on this event loop. From outside, nginx answers 404 for
`/_shadow/` (its location is `internal`), so only the mirror reaches this route.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import compile_path
from sqlalchemy.orm import Session, sessionmaker

from src.config import Settings
from src.core.parity import ParityBatch, record_batch
from src.observability.metrics import Metrics
from src.shadow.comparer import Comparer

MIRROR_PATH = "/_shadow/mirror"


async def mirrored_read(request: Request) -> Response:
    comparer: Comparer | None = getattr(request.app.state, "shadow_comparer", None)
    if comparer is not None:
        comparer.offer(request.headers.get("x-shadow-method", ""), request.headers.get("x-shadow-uri", ""),
                       request.headers)
    return Response(status_code=204)


def read_route_resolver(routers: list[APIRouter], prefix: str) -> Callable[[str], str | None]:
    """Path → the template of the GET route that answers it, in the app's own matching order
    (routers in inclusion order; FastAPI keeps included routers whole, not as prefixed copies)."""
    routes = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
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
        with sessions() as session:
            record_batch(session, batch)

    comparer = Comparer(settings, metrics, resolve, store)
    comparer.start()
    return comparer
