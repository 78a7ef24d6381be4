"""Late-run alerts (contract 8.12) with the clock the test controls: once per late fire."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.config import Settings
from src.core.late_runs import LATE_TITLE, raise_late_alerts
from src.models import Job, Notification, User
from tests.conftest import Factory

CREATED = datetime(2026, 3, 2, 0, 0)
# "0 9 * * *" in Tokyo fires at 00:00 UTC; with 300 s of grace it is late from 00:05 UTC.
BEFORE_GRACE = datetime(2026, 3, 3, 0, 4, tzinfo=UTC)
AFTER_GRACE = datetime(2026, 3, 3, 0, 6, tzinfo=UTC)


def _late_job(factory: Factory, owner: User, **fields: object) -> Job:
    values: dict[str, object] = {"cron_expression": "0 9 * * *", "grace_seconds": 300, "created_at": CREATED,
                                 "updated_at": CREATED, "end_date": date(2026, 12, 31)}
    values.update(fields)
    return factory.job(owner, **values)


def _late_notices(db: Session) -> list[Notification]:
    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.title == LATE_TITLE)))


def _check(db: Session, settings: Settings, now: datetime) -> list[str]:
    alerted = raise_late_alerts(db, settings, now)
    db.commit()
    return alerted


def test_a_fire_nobody_started_raises_one_alert_however_often_it_is_checked(
    db: Session, factory: Factory, settings: Settings
) -> None:
    owner = factory.user("user")
    job = _late_job(factory, owner)
    assert _check(db, settings, AFTER_GRACE) == [job.id]
    assert _check(db, settings, AFTER_GRACE.replace(minute=30)) == []
    [notice] = _late_notices(db)
    assert notice.user_id == owner.id
    assert notice.message.startswith(f'Job "{job.name}" was due at 2026-03-03T00:00:00.000Z')
    db.expire_all()
    stored = db.get(Job, job.id)
    assert stored is not None and stored.updated_at == CREATED


def test_no_alert_within_the_grace(db: Session, factory: Factory, settings: Settings) -> None:
    _late_job(factory, factory.user("user"))
    assert _check(db, settings, BEFORE_GRACE) == []


def test_no_alert_when_the_fire_started(db: Session, factory: Factory, settings: Settings) -> None:
    job = _late_job(factory, factory.user("user"))
    factory.execution(job, started_at=datetime(2026, 3, 3, 0, 0, 1))
    assert _check(db, settings, AFTER_GRACE) == []


def test_the_next_late_fire_alerts_again(db: Session, factory: Factory, settings: Settings) -> None:
    job = _late_job(factory, factory.user("user"))
    _check(db, settings, AFTER_GRACE)
    assert _check(db, settings, AFTER_GRACE.replace(day=4)) == [job.id]
    assert len(_late_notices(db)) == 2


def test_jobs_without_grace_or_inactive_never_alert(db: Session, factory: Factory, settings: Settings) -> None:
    owner = factory.user("user")
    _late_job(factory, owner, grace_seconds=None)
    _late_job(factory, owner, is_active=False)
    assert _check(db, settings, AFTER_GRACE) == []
