"""Failure policy, lateness and time zone fields (contract 7.9, 8.11) through each door."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.clock import local_today
from src.core.failure_policy import PAUSED_TITLE
from src.models import Job, Notification, SlackSettings, User
from tests.api.conftest import ApiClient
from tests.api.test_execute import _wait_for
from tests.conftest import Factory
from tests.receivers import Receiver, SmtpSink, receiver, smtp  # noqa: F401  # pytest fixtures, imported so tests can request them


@pytest.fixture
def settings_overrides(smtp: SmtpSink) -> dict[str, Any]:  # noqa: F811  # the imported pytest fixture, injected by name
    return {"MAIL_USERNAME": "mailer", "MAIL_PASSWORD": "", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
            "MAIL_USE_TLS": False, "FRONTEND_BASE_URL": "http://spa.example/"}


@pytest.fixture
def token(factory: Factory, user: User) -> str:
    return factory.token(user)


@pytest.fixture
def create_body(settings: Settings, team: Any) -> dict[str, Any]:
    return {
        "name": "policy job",
        "cron_expression": "0 9 * * *",
        "end_date": (local_today(settings.scheduler_tz) + timedelta(days=30)).isoformat(),
        "pic_team": "team-a",
        "target_url": "https://hooks.example.com/run",
    }


# --- failure_threshold ---------------------------------------------------------------------


def test_a_job_is_paused_after_its_third_consecutive_failure_with_notifications(
    api: ApiClient, factory: Factory, user: User, token: str, receiver: Receiver, smtp: SmtpSink,  # noqa: F811  # the imported pytest fixture, injected by name
    db: Session, team: Any,
) -> None:
    db.add(SlackSettings(is_enabled=True, webhook_url=f"{receiver.url}/slack", channel="#alerts"))
    db.commit()
    receiver.respond("/hook", 500, "down")
    job = factory.job(user, target_url=f"{receiver.url}/hook", failure_threshold=3)
    for run in range(3):
        db.expire_all()
        assert db.get(Job, job.id).is_active, f"paused before run {run + 1}"  # type: ignore[union-attr]  # None here fails the test, as it should
        assert api.post(f"/jobs/{job.id}/execute", token=token).json()["status"] == "failed"
    db.expire_all()
    assert db.get(Job, job.id).is_active is False  # type: ignore[union-attr]  # None here fails the test, as it should
    [notice] = db.scalars(select(Notification).where(Notification.title == PAUSED_TITLE)).all()
    assert notice.user_id == user.id
    assert notice.message == f'Job "{job.name}" failed 3 times in a row and was paused. PIC Team: team-a'
    _wait_for(lambda: any("auto-paused after 3" in r.json()["text"] for r in receiver.to("/slack")))
    [slack] = [r.json()["text"] for r in receiver.to("/slack") if "auto-paused" in r.json()["text"]]
    assert slack.startswith(":warning: @team-a Job auto-paused after 3 consecutive failures:")
    _wait_for(lambda: any(PAUSED_TITLE in mail.subject for mail in smtp.mails))
    [mail] = [mail for mail in smtp.mails if PAUSED_TITLE in mail.subject]
    assert mail.recipients == [user.email]
    assert api.post(f"/jobs/{job.id}/execute", token=token).json()["error"] == "Job inactive"


def test_a_success_resets_the_count(
    api: ApiClient, factory: Factory, user: User, token: str, receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    for status in (500, 500, 200, 500, 500):
        receiver.respond("/hook", status, "answer")
    job = factory.job(user, target_url=f"{receiver.url}/hook", failure_threshold=3)
    for _ in range(5):
        api.post(f"/jobs/{job.id}/execute", token=token)
    db.expire_all()
    assert db.get(Job, job.id).is_active is True  # type: ignore[union-attr]  # None here fails the test, as it should


def test_without_a_threshold_failures_never_pause(
    api: ApiClient, factory: Factory, user: User, token: str, receiver: Receiver, db: Session  # noqa: F811  # the imported pytest fixture, injected by name
) -> None:
    receiver.respond("/hook", 500, "down")
    job = factory.job(user, target_url=f"{receiver.url}/hook")
    for _ in range(4):
        api.post(f"/jobs/{job.id}/execute", token=token)
    db.expire_all()
    assert db.get(Job, job.id).is_active is True  # type: ignore[union-attr]  # None here fails the test, as it should


# --- the fields on the wire ----------------------------------------------------------------


def test_the_fields_are_stored_and_shown(api: ApiClient, token: str, create_body: dict[str, Any]) -> None:
    response = api.post("/jobs", token=token, json=create_body | {
        "failure_threshold": 3, "grace_seconds": 120, "timezone": "America/New_York"})
    assert response.status_code == 201, response.text
    job = response.json()["job"]
    assert (job["failure_threshold"], job["grace_seconds"], job["timezone"]) == (3, 120, "America/New_York")


def test_without_the_fields_the_job_shows_the_defaults(
    api: ApiClient, token: str, create_body: dict[str, Any]
) -> None:
    job = api.post("/jobs", token=token, json=create_body).json()["job"]
    assert (job["failure_threshold"], job["grace_seconds"], job["timezone"]) == (0, None, None)
    assert job["next_execution_at"].endswith("+09:00")


def test_a_job_in_its_own_zone_shows_next_execution_at_in_utc(
    api: ApiClient, token: str, create_body: dict[str, Any]
) -> None:
    job = api.post("/jobs", token=token, json=create_body | {"timezone": "America/New_York"}).json()["job"]
    assert job["next_execution_at"].endswith(("T13:00:00.000Z", "T14:00:00.000Z"))


MESSAGES = {
    "failure_threshold": ("Invalid failure_threshold", "failure_threshold must be an integer from 0 to 100."),
    "grace_seconds": ("Invalid grace_seconds", "grace_seconds must be an integer from 1 to 86400."),
    "timezone": ("Invalid timezone", "timezone must be an IANA time zone name such as America/New_York."),
}
INVALID = [("failure_threshold", value) for value in (-1, 101, "3", 1.5, True)] + \
          [("grace_seconds", value) for value in (0, 86401, "60")] + \
          [("timezone", value) for value in ("Mars/Olympus", 9, "+09:00")]


@pytest.mark.parametrize(("key", "value"), INVALID)
def test_create_with_an_invalid_field_is_400_and_creates_nothing(
    api: ApiClient, token: str, create_body: dict[str, Any], db: Session, key: str, value: Any
) -> None:
    response = api.post("/jobs", token=token, json=create_body | {key: value})
    assert response.status_code == 400
    error, message = MESSAGES[key]
    assert response.json() == {"error": error, "message": message}
    db.expire_all()
    assert db.scalars(select(Job)).all() == []


@pytest.mark.parametrize(("key", "value"), INVALID)
def test_update_with_an_invalid_field_is_400_and_changes_nothing(
    api: ApiClient, token: str, create_body: dict[str, Any], db: Session, key: str, value: Any
) -> None:
    job = api.post("/jobs", token=token, json=create_body).json()["job"]
    response = api.put(f"/jobs/{job['id']}", token=token, json={"name": "renamed", key: value})
    assert response.status_code == 400
    assert response.json() == dict(zip(("error", "message"), MESSAGES[key], strict=True))
    db.expire_all()
    assert db.get(Job, job["id"]).name == "policy job"  # type: ignore[union-attr]  # None here fails the test, as it should


def test_update_clears_the_fields_with_null(api: ApiClient, token: str, create_body: dict[str, Any]) -> None:
    job = api.post("/jobs", token=token, json=create_body | {
        "failure_threshold": 3, "grace_seconds": 120, "timezone": "Europe/Berlin"}).json()["job"]
    updated = api.put(f"/jobs/{job['id']}", token=token, json={
        "failure_threshold": None, "grace_seconds": None, "timezone": None}).json()["job"]
    assert (updated["failure_threshold"], updated["grace_seconds"], updated["timezone"]) == (0, None, None)
