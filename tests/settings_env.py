"""Settings as a process reads them, but from the test alone: no .env, no inherited variables."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest

from src.config import Settings

SAFE_PRODUCTION: dict[str, Any] = {
    "FLASK_ENV": "production",
    "SECRET_KEY": "a-long-random-secret-key-for-the-app-0123456789",
    "JWT_SECRET_KEY": "another-long-random-jwt-secret-key-9876543210",
    "CORS_ORIGINS": "https://cron.example.com",
}


def isolate_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither a developer's .env nor the shell may decide a test."""
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    # Secrets generated for a test without them go to a folder of its own, not the project's var/.
    monkeypatch.setenv("DATA_DIR", tempfile.mkdtemp(prefix="settings-data-"))
