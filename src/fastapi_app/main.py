"""FastAPI app factory and lifespan: resources are opened at start-up and closed at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from src import APP_VERSION
from src.config import Settings, load_settings
from src.core.job_list_cache import JobListCache
from src.core.login_throttle import LoginThrottle
from src.core.unit_of_work import Messages
from src.database.data_version import open_data_version
from src.database.engines import (
    create_loop_reader_engine,
    create_sync_engine_from_settings,
    is_sqlite,
    make_session_factory,
    sqlite_file,
)
from src.fastapi_app.answered_errors import KeepAliveDoor
from src.fastapi_app.dependencies.body import refuse_unstorable_url_text
from src.fastapi_app.docs import mount_docs
from src.fastapi_app.errors import register_error_handlers
from src.fastapi_app.grouped_writes import GroupedWrites
from src.fastapi_app.head_requests import HeadAsGet
from src.fastapi_app.kept_authentications import KeptAuthentications
from src.fastapi_app.openapi_docs import finish_document
from src.fastapi_app.read_cache import ReadCache, cached_paths
from src.fastapi_app.request_observer import RequestObserver
from src.fastapi_app.routers import ROUTERS
from src.fastapi_app.shadow import read_route_resolver, running_comparer
from src.fastapi_app.threaded_unit_of_work import ThreadedUnitOfWork, sender_in_background
from src.observability.json_logs import configure_process_logging
from src.observability.metrics import CONTENT_TYPE, UNMATCHED_ROUTE, Metrics
from src.scheduler.host import start_scheduler_host, stop_scheduler_host
from src.scheduler.services import close_execution_services, open_execution_services
from src.schemas.jobs import job_list_body

API_PREFIX = "/api/v2"
# Units of work open at once (each holds one pooled connection until it ends, and runs on one of
# as many threads): below the sync pool's 15 (SQLite) or 20 (PostgreSQL) connections, so the
# shadow-read comparer's sessions always find one. SQLite never waits on a network, and
# sqlite3 hands the GIL over on every row it steps: with many threads the hand-overs cost more
# CPU than the queries. With 2, though, heavy aggregates (statistics) could no longer run beside
# each other on the second core; 4 keeps both near their best (figures: docs/PERFORMANCE.md,
# "Figures behind the code"). PostgreSQL's threads mostly wait on the server, so more of them
# overlap their waits.
REQUEST_DB_THREADS = {"sqlite": 4, "postgresql": 8}


def request_db_threads(database_url: str) -> int:
    return REQUEST_DB_THREADS["sqlite" if is_sqlite(database_url) else "postgresql"]


def grouped_writes(database_url: str, factory: sessionmaker[Session],
                   send: Callable[[Messages], None]) -> GroupedWrites | None:
    """On SQLite, writes committed in groups, the workers taking turns on a file beside the database."""
    if not is_sqlite(database_url):
        return None
    database = sqlite_file(database_url)
    lock_path = None if database is None else database.with_name(database.name + "-writers.lock")
    return GroupedWrites(factory, send, lock_path)


def create_app(settings: Settings | None = None, metrics: Metrics | None = None) -> FastAPI:
    """Build the new door; nothing connects until the lifespan starts.

    `metrics` is shared when another door runs in the same process (src/asgi.py).
    """
    settings = settings or load_settings()
    metrics = metrics or Metrics()
    # Under uvicorn only its own loggers have handlers; the request lines need one too.
    configure_process_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await open_execution_services(settings, metrics)
        sync_engine = create_sync_engine_from_settings(settings)
        app.state.services = services
        app.state.sync_engine = sync_engine
        app.state.sync_session_factory = make_session_factory(sync_engine)
        loop_reader_engine = create_loop_reader_engine(settings)
        app.state.data_version = open_data_version(settings.DATABASE_URL)
        send = sender_in_background(services)
        app.state.unit_of_work = ThreadedUnitOfWork(
            app.state.sync_session_factory, request_db_threads(settings.DATABASE_URL), send,
            loop_reads=make_session_factory(loop_reader_engine) if loop_reader_engine is not None else None,
            grouped=grouped_writes(settings.DATABASE_URL, app.state.sync_session_factory, send),
        )
        # Competes for the scheduler lease only when SCHEDULER_HOST=fastapi (cutover phase).
        app.state.scheduler_host = await start_scheduler_host(services, "fastapi")
        try:
            async with running_comparer(read_route_resolver(ROUTERS, API_PREFIX), settings, metrics,
                                        app.state.sync_session_factory):
                yield
        finally:
            await stop_scheduler_host(app.state.scheduler_host)
            await close_execution_services(services)
            app.state.unit_of_work.close()
            sync_engine.dispose()
            if loop_reader_engine is not None:
                loop_reader_engine.dispose()
            if app.state.data_version is not None:
                app.state.data_version.close()
                app.state.data_version = None
            metrics.process_exiting()

    # A 500 must not close the kept-alive connection nginx sends other clients' requests on.
    app = KeepAliveDoor(
        title="Cron Job Manager API",
        version=APP_VERSION,
        description="The /api/v2 door of the cron-job backend. Errors use `{\"error\", \"message\"}`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        dependencies=[Depends(refuse_unstorable_url_text)],
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.login_throttle = LoginThrottle()
    app.state.job_list_cache = JobListCache(job_list_body)
    app.state.kept_authentications = KeptAuthentications(lambda: getattr(app.state, "data_version", None), settings)

    origins = settings.cors_origins or ["*"]
    # Innermost, inside HeadAsGet (a HEAD is answered from a kept GET) and inside everything that
    # adds a request's own headers (request id, CORS), which a kept answer must not carry.
    app.add_middleware(
        ReadCache, paths=cached_paths(API_PREFIX), max_bytes=settings.READ_CACHE_MB * 1024 * 1024,
        data_version=lambda: getattr(app.state, "data_version", None), settings=settings,
        count=metrics.read_cache_outcome,
    )
    # Routing, the handler and the 405's Allow see GET; the request line keeps HEAD.
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization"],
        allow_credentials="*" not in origins,
    )

    app.add_middleware(RequestObserver, metrics=metrics, route_template=_route_templates(ROUTERS, API_PREFIX))

    register_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    from src.fastapi_app.routers import health

    app.add_api_route("/health", health.health, methods=["GET"], include_in_schema=False)

    # Scraped on the process's own port; nginx answers 404 for /metrics (deploy/nginx).
    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    app.add_api_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False)
    mount_docs(app, API_PREFIX)
    finish_document(app, API_PREFIX)
    return app


def _route_templates(routers: list[APIRouter], prefix: str) -> Callable[[BaseRoute | None], str]:
    """The matched route's full path template (`/api/v2/jobs/{job_id}`), never the raw path.

    FastAPI may put an included router's own route (path without the include prefix) in
    `scope["route"]`, so the prefixed templates of those routes are looked up by identity.
    """
    included = {id(route): prefix + route.path for router in routers for route in router.routes
                if isinstance(route, APIRoute)}

    def template(route: BaseRoute | None) -> str:
        if route is None:
            return UNMATCHED_ROUTE
        path = included.get(id(route)) or getattr(route, "path", None)
        return path if isinstance(path, str) and path else UNMATCHED_ROUTE

    return template
