"""Engines and session factories built from one DATABASE_URL."""

from src.database.engines import (
    async_url,
    create_async_engine_from_settings,
    create_sync_engine_from_settings,
    make_async_session_factory,
    make_session_factory,
    sync_url,
)

__all__ = [
    "async_url",
    "create_async_engine_from_settings",
    "create_sync_engine_from_settings",
    "make_async_session_factory",
    "make_session_factory",
    "sync_url",
]
