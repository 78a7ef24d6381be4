"""No secrets configured (development): the first start generates random keys into DATA_DIR and
every process of the deployment, both doors and the CLI, signs and checks tokens with them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from src.config import DEFAULT_SECRET, GENERATED_SECRETS_FILE, load_settings
from src.models import User
from tests.conftest import PASSWORD, legacy_door
from tests.settings_env import isolate_settings


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> Path:
    """A deployment's environment with no SECRET_KEY / JWT_SECRET_KEY at all."""
    isolate_settings(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SCHEDULER_HOST", "none")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_first_start_generates_random_secrets_and_later_starts_reuse_them(data_dir: Path) -> None:
    first = load_settings()
    assert DEFAULT_SECRET not in (first.SECRET_KEY, first.JWT_SECRET_KEY)
    assert first.SECRET_KEY != first.JWT_SECRET_KEY and len(first.jwt_secret) >= 32
    stored = data_dir / GENERATED_SECRETS_FILE
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text()) == {"SECRET_KEY": first.SECRET_KEY, "JWT_SECRET_KEY": first.JWT_SECRET_KEY}
    again = load_settings()
    assert (again.SECRET_KEY, again.JWT_SECRET_KEY) == (first.SECRET_KEY, first.JWT_SECRET_KEY)


def test_the_published_default_counts_as_unset(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", DEFAULT_SECRET)
    assert load_settings().jwt_secret != DEFAULT_SECRET


def test_configured_secrets_are_kept_and_nothing_is_generated(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "configured-app-secret-0123456789abcdef")
    monkeypatch.setenv("JWT_SECRET_KEY", "configured-jwt-secret-0123456789abcdef")
    settings = load_settings()
    assert (settings.SECRET_KEY, settings.jwt_secret) == (
        "configured-app-secret-0123456789abcdef", "configured-jwt-secret-0123456789abcdef")
    assert not (data_dir / GENERATED_SECRETS_FILE).exists()


@legacy_door
def test_a_token_from_one_door_is_accepted_by_the_other_with_generated_secrets(data_dir: Path, user: User) -> None:
    from src.fastapi_app.main import create_app as create_fastapi
    from src.flask_app import create_app as create_flask

    flask_app = create_flask()  # each door loads its settings itself, as its process does
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=flask_app), base_url="http://testserver/api") as flask, \
                TestClient(create_fastapi(), base_url="http://testserver/api/v2") as fastapi:
            login = flask.post("/auth/login", json={"username": user.username, "password": PASSWORD})
            token = login.json()["access_token"]
            assert fastapi.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            login = fastapi.post("/auth/login", json={"username": user.username, "password": PASSWORD})
            token = login.json()["access_token"]
            assert flask.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        flask_app.extensions["runtime"].close()
    assert (data_dir / GENERATED_SECRETS_FILE).exists()
