"""Flask app factory: Flask-SQLAlchemy on the shared Base, JWT settings, CORS, envelope errors."""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack

from flask import Flask, Response, g, request
from flask.typing import ResponseReturnValue
from flask_cors import CORS
from flask_sqlalchemy import SQLAlchemy

from src.config import Settings, load_settings
from src.core.job_list_cache import JobListCache
from src.core.phases import scheduler_kind
from src.core.request_log import REQUEST_ID_HEADER, log_request, request_id_from
from src.core.request_parsing import refuse_unstorable_url_values
from src.core.unit_of_work import unit_of_work
from src.database.engines import install_sqlite_pragmas, sync_engine_options, sync_url
from src.flask_app.blueprints import register_blueprints
from src.flask_app.errors import register_error_handlers
from src.flask_app.proxy_headers import TrustedProxyFix
from src.flask_app.runtime import FlaskRuntime
from src.models import Base
from src.observability.json_logs import bind_request_id, unbind_request_id
from src.observability.metrics import CONTENT_TYPE, UNMATCHED_ROUTE, Metrics
from src.schemas.jobs import job_list_body

log = logging.getLogger(__name__)


class LegacyDoor(Flask):
    """Flask whose views each run in the request's unit of work (src.core.unit_of_work).

    What the view did is committed before the response leaves (rolled back when it raised,
    unless the error keeps its changes), then the Slack/email messages the committed work
    queued are sent on the runtime loop. `door.wait_on_run` may end the unit early.
    """

    def dispatch_request(self) -> ResponseReturnValue:
        with ExitStack() as request_unit:
            g.request_unit = request_unit
            request_unit.enter_context(
                unit_of_work(self.extensions["sqlalchemy"].session, self.extensions["runtime"].deliver))
            return super().dispatch_request()


def create_app(settings: Settings | None = None, metrics: Metrics | None = None) -> Flask:
    """Build the legacy app; every resource it opens hangs off `app.extensions`.

    `metrics` is shared when another door runs in the same process (src/asgi.py).
    """
    settings = settings or load_settings()
    metrics = metrics or Metrics()
    app = LegacyDoor(__name__)
    url = sync_url(settings.DATABASE_URL)
    app.config.update(
        SECRET_KEY=settings.SECRET_KEY,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=sync_engine_options(url),
        SQLALCHEMY_SESSION_OPTIONS={"expire_on_commit": False},
        MAX_CONTENT_LENGTH=max(settings.BULK_UPLOAD_MAX_BYTES, settings.MAX_JSON_BODY_BYTES) + 64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask types app.json as its provider base class
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Flask types app.json as its provider base class
    app.extensions["settings"] = settings
    app.extensions["job_list_cache"] = JobListCache(job_list_body)
    app.extensions["metrics"] = metrics

    db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
    db.init_app(app)
    with app.app_context():
        install_sqlite_pragmas(db.engine)

    origins = settings.cors_origins or ["*"]
    CORS(
        app,
        resources={r"/api/*": {"origins": origins}, r"/health": {"origins": origins}},
        methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization"],
        supports_credentials="*" not in origins,
    )

    app.extensions["runtime"] = FlaskRuntime(settings, metrics)
    if scheduler_kind(None, settings.SCHEDULER_HOST) != "none":
        # The host competes for the lease when the deployment phase (or, before any phase was
        # set, SCHEDULER_HOST) names flask; it runs on the runtime loop and follows phase changes.
        app.extensions["runtime"].start_scheduler()

    register_error_handlers(app)
    register_blueprints(app)
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]  # replacing the method is the point

    @app.before_request
    def _start_request_log() -> None:
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_id_binding = bind_request_id(g.request_id)
        g.request_started = time.perf_counter()

    @app.before_request
    def _refuse_unstorable_url_text() -> None:
        # Only for a route that exists: an unknown path stays a 404, as on the FastAPI door.
        if request.url_rule is not None:
            refuse_unstorable_url_values((request.view_args or {}).values(), request.args.items(multi=True))

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Served-By"] = "flask"
        _finish_request_log(response)
        return response

    def _finish_request_log(response: Response) -> None:
        # A request rejected before before_request ran (none today) still gets an id.
        request_id = g.get("request_id") or request_id_from(request.headers.get(REQUEST_ID_HEADER))
        started = g.get("request_started", time.perf_counter())
        response.headers[REQUEST_ID_HEADER] = request_id
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        metrics.observe_request("flask", request.method, route, response.status_code, seconds)
        log_request("flask", request_id, request.method, request.path, route, response.status_code,
                    seconds * 1000)

    @app.teardown_request
    def _forget_request_id(_error: BaseException | None) -> None:
        binding = g.pop("request_id_binding", None)
        if binding is not None:
            unbind_request_id(binding)

    # Scraped on the process's own port; nginx answers 404 for /metrics (deploy/nginx).
    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        return Response(metrics.render(), content_type=CONTENT_TYPE)

    return app
