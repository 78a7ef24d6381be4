"""Production mode refuses unsafe settings and names the one to fix; development starts as is."""

from __future__ import annotations

from typing import Any

import pytest

from src.config import DEFAULT_SECRET, UnsafeProductionSettings, load_settings
from tests.conftest import legacy_door
from tests.settings_env import SAFE_PRODUCTION, isolate_settings


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_settings(monkeypatch)


def refusal(**changes: Any) -> str:
    with pytest.raises(UnsafeProductionSettings) as caught:
        load_settings(**{**SAFE_PRODUCTION, **changes})
    return str(caught.value)


def test_safe_production_settings_load() -> None:
    settings = load_settings(**SAFE_PRODUCTION)
    assert settings.is_production
    assert settings.cors_origins == ["https://cron.example.com"]


def test_development_defaults_load() -> None:
    settings = load_settings()
    assert not settings.is_production
    # No published default: unset secrets are generated (tests/api/test_generated_secrets.py).
    assert settings.SECRET_KEY not in ("", DEFAULT_SECRET)


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, ""])
def test_production_refuses_default_or_empty_secret_key(secret: str) -> None:
    assert "set SECRET_KEY" in refusal(SECRET_KEY=secret)


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, ""])
def test_production_refuses_default_or_empty_jwt_secret_key(secret: str) -> None:
    assert "set JWT_SECRET_KEY" in refusal(JWT_SECRET_KEY=secret)


def test_production_refuses_jwt_secret_equal_to_secret_key() -> None:
    message = refusal(JWT_SECRET_KEY=SAFE_PRODUCTION["SECRET_KEY"])
    assert "JWT_SECRET_KEY" in message
    assert "different from SECRET_KEY" in message


@pytest.mark.parametrize("origins", ["*", "", " , ", "https://cron.example.com,*"])
def test_production_refuses_open_or_empty_cors_origins(origins: str) -> None:
    assert "CORS_ORIGINS" in refusal(CORS_ORIGINS=origins)


def test_refusal_names_every_unsafe_setting_at_once() -> None:
    message = refusal(SECRET_KEY=DEFAULT_SECRET, JWT_SECRET_KEY="", CORS_ORIGINS="*")
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "CORS_ORIGINS"):
        assert name in message


def test_production_mode_is_read_case_insensitively() -> None:
    with pytest.raises(UnsafeProductionSettings):
        load_settings(FLASK_ENV=" Production ")


def test_scheduler_host_defaults_to_flask_while_the_legacy_door_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("src.config.legacy_door_installed", lambda: True)
    assert load_settings().SCHEDULER_HOST == "flask"


def test_scheduler_host_defaults_to_fastapi_once_the_legacy_door_is_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("src.config.legacy_door_installed", lambda: False)
    assert load_settings().SCHEDULER_HOST == "fastapi"


@legacy_door
def test_the_legacy_door_counts_as_installed_only_with_flask_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    from src.config import legacy_door_installed

    assert legacy_door_installed() is True
    monkeypatch.setattr("src.config.LEGACY_DOOR_MODULES", ("src.flask_app", "flask_that_is_not_installed"))
    assert legacy_door_installed() is False
