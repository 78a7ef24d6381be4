"""FastAPI app factory and lifespan: resources are opened at start-up and closed at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from src import APP_VERSION
from src.config import Settings, load_settings
from src.core.login_throttle import LoginThrottle
from src.core.request_log import (
    REQUEST_ID_HEADER,
    configure_process_logging,
    log_request,
    request_id_from,
)
from src.database.engines import create_sync_engine_from_settings, make_session_factory
from src.fastapi_app.docs import mount_docs
from src.fastapi_app.errors import register_error_handlers
from src.fastapi_app.openapi_docs import drop_validation_error_responses
from src.fastapi_app.routers import ROUTERS
from src.fastapi_app.threaded_session import ThreadedSessionFactory
from src.scheduler.host import start_scheduler_host, stop_scheduler_host
from src.scheduler.services import close_run_services, open_run_services

API_PREFIX = "/api/v2"
# Requests doing database work at once; the sync pool holds 10+10 connections (PostgreSQL) and
# more threads than cores only queue on the GIL.
REQUEST_DB_THREADS = 8


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the new door; nothing connects until the lifespan starts."""
    settings = settings or load_settings()
    # Under uvicorn only its own loggers have handlers; the request lines need one too.
    configure_process_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await open_run_services(settings)
        sync_engine = create_sync_engine_from_settings(settings)
        app.state.services = services
        app.state.sync_engine = sync_engine
        app.state.sync_session_factory = make_session_factory(sync_engine)
        app.state.request_sessions = ThreadedSessionFactory(app.state.sync_session_factory, REQUEST_DB_THREADS)
        # Competes for the scheduler lease only when SCHEDULER_HOST=fastapi (cutover phase).
        app.state.scheduler_host = await start_scheduler_host(services, "fastapi")
        try:
            yield
        finally:
            await stop_scheduler_host(app.state.scheduler_host)
            await close_run_services(services)
            sync_engine.dispose()

    app = FastAPI(
        title="Cron Job Manager API",
        version=APP_VERSION,
        description="The /api/v2 door of the cron-job backend. Errors use `{\"error\", \"message\"}`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle()

    origins = settings.cors_origins or ["*"]
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization"],
        allow_credentials="*" not in origins,
    )

    @app.middleware("http")
    async def served_by(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Served-By"] = "fastapi"
        response.headers[REQUEST_ID_HEADER] = request_id
        log_request("fastapi", request_id, request.method, request.url.path, response.status_code,
                    (time.perf_counter() - started) * 1000)
        return response

    register_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    from src.fastapi_app.routers import health

    app.add_api_route("/health", health.health, methods=["GET"], include_in_schema=False)
    mount_docs(app, API_PREFIX)
    drop_validation_error_responses(app)
    return app
