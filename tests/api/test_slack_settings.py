"""Slack settings (contract 6.10) and the target the integrations read (8.7)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from src.core.slack_settings import slack_target
from src.models import SlackSettings, User
from tests.api.conftest import ApiClient
from tests.conftest import Factory

INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ROLE_GATE = {"error": "Insufficient permissions", "message": "This endpoint requires one of the following roles: admin"}
HOOK = "https://hooks.slack.com/services/T/B/X"


@pytest.fixture
def admin_token(factory: Factory, admin: User) -> str:
    return factory.token(admin)


def _rows(db: Session) -> list[SlackSettings]:
    db.expire_all()
    return list(db.scalars(select(SlackSettings)))


def test_get_creates_the_disabled_row_once(api: ApiClient, admin_token: str, db: Session) -> None:
    first = api.get("/settings/slack", token=admin_token)
    second = api.get("/settings/slack", token=admin_token)
    assert first.status_code == 200
    settings = first.json()["slack_settings"]
    assert (settings["is_enabled"], settings["webhook_url"], settings["channel"]) == (False, None, None)
    assert INSTANT.fullmatch(settings["created_at"]) and INSTANT.fullmatch(settings["updated_at"])
    assert second.json()["slack_settings"]["id"] == settings["id"]
    assert db.scalar(select(func.count()).select_from(SlackSettings)) == 1


def test_put_enables_with_trimmed_values(api: ApiClient, admin_token: str, db: Session) -> None:
    response = api.put("/settings/slack", token=admin_token,
                       json={"is_enabled": True, "webhook_url": f"  {HOOK} ", "channel": " #alerts "})
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Slack settings updated"
    assert body["slack_settings"]["is_enabled"] is True
    assert body["slack_settings"]["webhook_url"] == HOOK
    assert body["slack_settings"]["channel"] == "#alerts"
    [row] = _rows(db)
    assert (row.is_enabled, row.webhook_url, row.channel) == (True, HOOK, "#alerts")


def test_put_blank_and_null_strings_become_null(api: ApiClient, admin_token: str, db: Session) -> None:
    api.put("/settings/slack", token=admin_token, json={"webhook_url": HOOK, "channel": "#a"})
    response = api.put("/settings/slack", token=admin_token,
                       json={"is_enabled": False, "webhook_url": "   ", "channel": None})
    assert response.status_code == 200
    settings = response.json()["slack_settings"]
    assert (settings["webhook_url"], settings["channel"]) == (None, None)


def test_put_keeps_absent_fields(api: ApiClient, admin_token: str) -> None:
    api.put("/settings/slack", token=admin_token, json={"is_enabled": True, "webhook_url": HOOK, "channel": "#a"})
    settings = api.put("/settings/slack", token=admin_token, json={"channel": "#b"}).json()["slack_settings"]
    assert (settings["is_enabled"], settings["webhook_url"], settings["channel"]) == (True, HOOK, "#b")


def test_put_does_not_validate_the_url_format(api: ApiClient, admin_token: str) -> None:
    response = api.put("/settings/slack", token=admin_token, json={"is_enabled": True, "webhook_url": "http://x"})
    assert response.status_code == 200


@pytest.mark.parametrize("body", [
    {"is_enabled": True},
    {"is_enabled": True, "webhook_url": "  "},
    {"is_enabled": "yes", "webhook_url": None, "channel": "#a"},
])
def test_enabling_without_webhook_is_400_and_persists_nothing(
    api: ApiClient, admin_token: str, db: Session, body: dict[str, object]
) -> None:
    response = api.put("/settings/slack", token=admin_token, json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid settings", "message": "webhook_url is required when Slack is enabled."}
    assert _rows(db) == []


def test_clearing_the_url_of_enabled_settings_is_400_and_keeps_them(
    api: ApiClient, admin_token: str, db: Session
) -> None:
    api.put("/settings/slack", token=admin_token, json={"is_enabled": True, "webhook_url": HOOK, "channel": "#a"})
    response = api.put("/settings/slack", token=admin_token, json={"webhook_url": "", "channel": "#b"})
    assert response.status_code == 400
    [row] = _rows(db)
    assert (row.is_enabled, row.webhook_url, row.channel) == (True, HOOK, "#a")


def test_non_string_webhook_url_is_400(api: ApiClient, admin_token: str) -> None:
    response = api.put("/settings/slack", token=admin_token, json={"webhook_url": 5})
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid payload", "message": '"webhook_url" must be a string.'}


@pytest.mark.parametrize(("content", "content_type", "expected"), [
    (b'{"is_enabled": false}', "text/plain", {"error": "Content-Type must be application/json"}),
    (b'{"is_enabled": ', "application/json", {"error": "Invalid JSON", "message": "Request body is not valid JSON."}),
    (b"[1]", "application/json", {"error": "Invalid payload", "message": "JSON body must be an object."}),
])
def test_put_bad_body_is_400_and_persists_nothing(
    api: ApiClient, admin_token: str, db: Session, content: bytes, content_type: str, expected: dict[str, str]
) -> None:
    response = api.put("/settings/slack", token=admin_token, content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json() == expected
    assert _rows(db) == []


@pytest.mark.parametrize("role", ["user", "viewer"])
def test_non_admins_get_the_role_gate(api: ApiClient, factory: Factory, role: str) -> None:
    token = factory.token(factory.user(role))
    for response in (api.get("/settings/slack", token=token),
                     api.put("/settings/slack", token=token, json={"is_enabled": False})):
        assert response.status_code == 403
        assert response.json() == ROLE_GATE


def test_slack_target_is_none_without_a_row(db: Session) -> None:
    assert slack_target(db) is None
    assert _rows(db) == []


def test_slack_target_is_none_when_disabled(api: ApiClient, admin_token: str, db: Session) -> None:
    api.put("/settings/slack", token=admin_token, json={"is_enabled": False, "webhook_url": HOOK})
    db.expire_all()
    assert slack_target(db) is None


def test_slack_target_returns_url_and_channel_when_enabled(api: ApiClient, admin_token: str, db: Session) -> None:
    api.put("/settings/slack", token=admin_token, json={"is_enabled": True, "webhook_url": HOOK, "channel": "#ops"})
    db.expire_all()
    assert slack_target(db) == (HOOK, "#ops")
