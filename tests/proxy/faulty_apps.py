"""Test builds of both doors: the production factories plus one route that raises on purpose.

Used only by tests (never by src/ or the deployment): `uvicorn --factory
tests.proxy.faulty_apps:create_fastapi_app` and `gunicorn 'tests.proxy.faulty_apps:create_flask_wsgi_app()'`.
"""

from __future__ import annotations

from fastapi import FastAPI
from flask import Flask

from src.config import load_settings
from src.fastapi_app.main import API_PREFIX
from src.fastapi_app.main import create_app as create_fastapi
from src.flask_app.app import create_app as create_flask
from src.observability.json_logs import configure_process_logging

RAISING_PATH = "/test-only/raise"


class DeliberateFault(RuntimeError):
    """Raised by the test-only route: an unexpected error no handler knows."""


def _raise() -> None:
    raise DeliberateFault("raised on purpose by a test build")


def create_fastapi_app() -> FastAPI:
    app = create_fastapi()
    app.add_api_route(API_PREFIX + RAISING_PATH, _raise, methods=["GET", "POST"], include_in_schema=False)
    return app


def create_flask_wsgi_app() -> Flask:
    configure_process_logging()
    app = create_flask(load_settings())
    app.add_url_rule("/api" + RAISING_PATH, "test_only_raise", _raise, methods=["GET", "POST"])
    return app
