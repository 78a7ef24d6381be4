"""Weekly end-date maintenance (contract 8.8), run as the scheduler runs it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.core.clock import local_today
from src.models import Job, Notification, SlackSettings, User
from src.scheduler.maintenance import run_end_date_maintenance
from src.scheduler.services import ExecutionServices
from tests.conftest import Factory
from tests.scheduler.conftest import TimedReceiver as Receiver

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"FRONTEND_BASE_URL": "http://spa.example"}


@pytest.fixture
def people(factory: Factory) -> tuple[User, User]:
    factory.team("Team A", slug="team-a", slack_handle="@team-a")
    return factory.user("user"), factory.user("admin")


@pytest.fixture
def slack(db: Session, receiver: Receiver) -> str:
    db.add(SlackSettings(is_enabled=True, webhook_url=f"{receiver.url}/slack"))
    db.commit()
    return "/slack"


def _notes(db: Session, job: Job) -> list[Notification]:
    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.related_job_id == job.id)))


async def test_expired_active_job_is_auto_paused_with_notifications_and_slack(
    services: ExecutionServices, db: Session, factory: Factory, people: tuple[User, User], receiver: Receiver,
    slack: str
) -> None:
    owner, admin = people
    today = local_today(services.settings.scheduler_tz)
    job = factory.job(owner, name="nightly", end_date=today - timedelta(days=1))
    result = await run_end_date_maintenance(services)
    db.expire_all()
    notes = _notes(db, job)
    assert result is not None and result.auto_paused == 1
    assert db.get(Job, job.id).is_active is False  # type: ignore[union-attr]  # None here fails the test, as it should
    assert {n.user_id for n in notes} == {owner.id, admin.id}
    assert {(n.title, n.type) for n in notes} == {("Job auto-paused (end date passed)", "warning")}
    assert [r.json()["text"] for r in receiver.to(slack)] == [
        f":warning: @team-a Job auto-paused (end date passed): <http://spa.example/jobs/{job.id}/edit|nightly> "
        f"(end_date {(today - timedelta(days=1)).isoformat()} JST)"
    ]


async def test_already_inactive_expired_job_is_not_notified_again(
    services: ExecutionServices, db: Session, factory: Factory, people: tuple[User, User], receiver: Receiver,
    slack: str
) -> None:
    owner, _admin = people
    today = local_today(services.settings.scheduler_tz)
    job = factory.job(owner, end_date=today - timedelta(days=1), is_active=False)
    result = await run_end_date_maintenance(services)
    assert result is not None and result.auto_paused == 0
    assert _notes(db, job) == []
    assert receiver.to(slack) == []


async def test_job_ending_within_thirty_days_gets_ending_soon_with_days_left(
    services: ExecutionServices, db: Session, factory: Factory, people: tuple[User, User], receiver: Receiver,
    slack: str
) -> None:
    owner, admin = people
    today = local_today(services.settings.scheduler_tz)
    job = factory.job(owner, name="soon", end_date=today + timedelta(days=5))
    await run_end_date_maintenance(services)
    notes = _notes(db, job)
    end = (today + timedelta(days=5)).isoformat()
    assert {n.user_id for n in notes} == {owner.id, admin.id}
    assert {(n.title, n.message, n.type) for n in notes} == {
        ("Job ending soon", f'Job "soon" ends on {end} JST (5 day(s) left). PIC Team: team-a', "warning")
    }
    assert [r.json()["text"] for r in receiver.to(slack)] == [
        f":warning: @team-a Job ending soon (5d): <http://spa.example/jobs/{job.id}/edit|soon> (end_date {end} JST)"
    ]


async def test_ending_soon_covers_today_and_day_thirty_and_inactive_jobs_only(
    services: ExecutionServices, db: Session, factory: Factory, people: tuple[User, User]
) -> None:
    owner, _admin = people
    today = local_today(services.settings.scheduler_tz)
    last_day = factory.job(owner, end_date=today)
    day_thirty = factory.job(owner, end_date=today + timedelta(days=30), is_active=False)
    later = factory.job(owner, end_date=today + timedelta(days=31))
    no_end = factory.job(owner, end_date=None)
    result = await run_end_date_maintenance(services)
    assert result is not None and result.ending_soon == 2
    assert "(0 day(s) left)" in _notes(db, last_day)[0].message
    assert "(30 day(s) left)" in _notes(db, day_thirty)[0].message
    assert _notes(db, later) == [] and _notes(db, no_end) == []
