"""Hosting the shadow-read comparer in the FastAPI process: its intake and its lifetime.

nginx sends each sampled /api read as one UDP datagram to 127.0.0.1:FASTAPI_PORT once the
client has its answer (src/shadow/intake.py); nothing of it passes through the ASGI app, so a
v2 request holding this event loop delays comparisons, never a client (bench.api.shadow: the
former `mirror` subrequest to this process cost the jobs list's clients up to 5x their p99).
The comparison runs on this event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import compile_path

from src.config import Settings
from src.core.parity import ParityBatch, record_batch
from src.observability.metrics import Metrics
from src.shadow import intake
from src.shadow.comparer import Comparer


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


@asynccontextmanager
async def running_comparer(resolve: Callable[[str], str | None], settings: Settings, metrics: Metrics,
                           sessions: sessionmaker[Session]) -> AsyncIterator[Comparer | None]:
    """The process's comparer, listening for nginx and flushing results once a second; None when
    SHADOW_READS is off. On exit: stops listening, abandons comparisons in flight, writes the tally."""
    if not settings.SHADOW_READS:
        yield None
        return

    def store(batch: ParityBatch) -> None:
        record_batch(sessions, batch)

    comparer = Comparer(settings, metrics, resolve, store)
    comparer.start()
    transport: asyncio.DatagramTransport | None = None
    try:
        transport = await intake.listen(settings.FASTAPI_PORT, comparer.offer)
        yield comparer
    finally:
        if transport is not None:
            transport.close()
        await comparer.close()
