"""WSGI entry for gunicorn: `gunicorn 'src.flask_app.wsgi:create_wsgi_app()'`.

A factory rather than a module-level app, so importing this module reads no settings and
opens nothing.
"""

from __future__ import annotations

from flask import Flask

from src.config import load_settings
from src.flask_app.app import create_app
from src.observability.json_logs import configure_process_logging


def create_wsgi_app() -> Flask:
    """Build the legacy app from the environment / .env, logging JSON lines to stdout."""
    configure_process_logging()
    return create_app(load_settings())
