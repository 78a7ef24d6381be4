"""WSGI entry for gunicorn: `gunicorn 'src.flask_app.wsgi:create_wsgi_app()'`.

A factory rather than a module-level app, so importing this module reads no settings and
opens nothing.
"""

from __future__ import annotations

import logging
import sys

from flask import Flask

from src.config import load_settings
from src.flask_app.app import create_app


def create_wsgi_app() -> Flask:
    """Build the legacy app from the environment / .env, logging to stdout."""
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
    )
    return create_app(load_settings())
