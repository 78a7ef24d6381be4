"""The legacy door: Flask under /api, a thin layer over src.core."""

from src.flask_app.app import create_app

__all__ = ["create_app"]
